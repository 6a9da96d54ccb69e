import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildReportData, type ReportInput, type ReportOptions } from './data.js';
import { renderReportHtml, type ChartAssets } from './html.js';

export { buildReportData, bucketWidth, downsample, type ReportData, type ReportInput, type ReportOptions } from './data.js';
export { renderReportHtml, type ChartAssets } from './html.js';

let assets: ChartAssets | undefined;

/** uPlot's browser build, stylesheet and licence, read once from node_modules. */
export function chartAssets(): ChartAssets {
  if (assets) return assets;
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('uplot/package.json');
  const dir = dirname(packageJson);
  const read = (path: string): string => readFileSync(join(dir, path), 'utf8');
  assets = {
    script: read('dist/uPlot.iife.min.js'),
    css: read('dist/uPlot.min.css'),
    license: read('LICENSE'),
    version: (JSON.parse(read('package.json')) as { version: string }).version,
  };
  return assets;
}

/** The report page as a string: self-contained, it loads nothing from the network. */
export function renderReport(input: ReportInput, options: ReportOptions = {}): string {
  return renderReportHtml(buildReportData(input, options), chartAssets());
}

/** Writes the report page; returns its size in bytes. */
export function writeReport(file: string, input: ReportInput, options: ReportOptions = {}): number {
  const html = renderReport(input, options);
  writeFileSync(file, html);
  return Buffer.byteLength(html);
}
