import { drawReportCharts } from './client.js';
import type { ReportData } from './data.js';

/** The chart library, inlined so the page needs no network. */
export interface ChartAssets {
  /** uPlot's IIFE build: defines the global `uPlot`. */
  script: string;
  css: string;
  /** uPlot's licence text, kept with the copy of its code. */
  license: string;
  version: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Text that can stand inside <script> or <style>: no sequence there may close the element. */
function inlineSafe(text: string, element: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${element})`, 'gi'), '<\\/$1');
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return s > 0 ? `${m} min ${s} s` : `${m} min`;
  return `${s} s`;
}

function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

function scoreTable(data: ReportData): string {
  const rows = data.policies.map((p) => {
    const s = p.scores;
    const recoveredAll = s.recoveredWithinTarget === s.failures;
    const recoveries = s.recoveryTimesSeconds.map((r) => (r === null ? 'never' : `${r} s`)).join(', ');
    return `<tr>
  <td class="policy"><span class="swatch" style="background:${escapeHtml(p.color)}"></span>${escapeHtml(p.name)}</td>
  <td>${s.meanParallelism.toFixed(2)}</td>
  <td>${s.costRatio.toFixed(3)}</td>
  <td class="${recoveredAll ? 'good' : 'bad'}" title="${escapeHtml(recoveries ? `recovery times: ${recoveries}` : 'no failures')}">${s.recoveredWithinTarget}/${s.failures}</td>
  <td>${s.latencySloFraction.toFixed(4)}</td>
  <td>${s.rescales}${s.rescalesRejected > 0 ? ` <span class="muted">(${s.rescalesRejected} rejected)</span>` : ''}</td>
  <td>${s.decisionMillis.p95.toFixed(3)}</td>
</tr>`;
  });
  return `<table class="scores">
<thead><tr><th>policy</th><th>mean p</th><th>cost ratio</th><th>recovered</th><th>latency SLO</th><th>rescales</th><th>decision p95 ms</th></tr></thead>
<tbody>
${rows.join('\n')}
<tr class="bound"><td class="policy"><span class="swatch dashed"></span>clairvoyant lower bound</td><td>${data.lowerBoundMeanParallelism.toFixed(2)}</td><td>1.000</td><td>–</td><td>–</td><td>–</td><td>–</td></tr>
</tbody>
</table>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: #1b1b1b; margin: 0; background: #fff; }
main { max-width: 1320px; margin: 0 auto; padding: 20px 28px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 26px 0 2px; }
.subtitle, .muted, .caption { color: #555; }
.caption { margin: 0 0 6px; font-size: 13px; }
.legend-text { background: #f5f7fa; border-left: 4px solid #2ca02c; padding: 8px 14px; margin: 14px 0; max-width: 1000px; }
.legend-text p { margin: 4px 0; }
table.scores { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
table.scores th, table.scores td { padding: 4px 12px; border-bottom: 1px solid #e3e3e3; text-align: right; }
table.scores th:first-child, table.scores td.policy { text-align: left; }
table.scores tr.bound td { color: #555; font-style: italic; }
td.good { color: #1a7f37; } td.bad { color: #d62728; font-weight: 600; }
.swatch { display: inline-block; width: 14px; height: 4px; margin: 0 8px 3px 0; vertical-align: middle; }
.swatch.dashed { background: repeating-linear-gradient(90deg, #111 0 6px, transparent 6px 10px); }
.chart { width: 100%; min-height: 300px; }
#report-error { color: #d62728; font-weight: 600; }
footer { margin-top: 28px; font-size: 12px; color: #666; }
`;

/** The whole report page: scores as plain HTML, charts drawn by the inlined uPlot. */
export function renderReportHtml(data: ReportData, assets: ChartAssets): string {
  const scenario = escapeHtml(data.scenario);
  const date = data.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
  const failures = data.failures.length > 0 ? `${data.failures.length} failures (at ${data.failures.map(clock).join(', ')})` : 'no failures';
  const bucket = data.bucketSeconds === 1
    ? 'Every second is plotted.'
    : `Plotted per ${duration(data.bucketSeconds)}: the highest parallelism, p*, latency and backlog within each ${duration(data.bucketSeconds)}, and the mean arrival rate.`;
  const infeasible = data.lowerBoundInfeasibleSeconds > 0
    ? ` In ${data.lowerBoundInfeasibleSeconds} s no parallelism meets both SLOs; there p* is the maximum.`
    : '';
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const client = `(${drawReportCharts.toString()})(window.uPlot, JSON.parse(document.getElementById('report-data').textContent), document);`;

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>phoebe simulate report: ${scenario}, seed ${data.seed}</title>
<style>${inlineSafe(assets.css, 'style')}</style>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>phoebe simulate report: ${scenario}, seed ${data.seed}, ${escapeHtml(data.generatedAt.slice(0, 10))}</h1>
<div class="subtitle">${duration(data.durationSeconds)} of workload · ${data.policies.length} ${data.policies.length === 1 ? 'policy' : 'policies'} · ${failures} · latency SLO ${data.slo.latencySeconds} s · recovery target ${data.slo.recoveryTimeSeconds} s · generated ${escapeHtml(date)}</div>

<div class="legend-text">
<p><b>What a good policy looks like.</b> <b>Cheap</b>: its parallelism stays close to the clairvoyant lower bound p*(t) (dashed black) — the smallest parallelism meeting both SLOs at each second, knowing the future; cost ratio = mean parallelism ÷ the bound's mean, so 1.0 is unbeatable. <b>Safe</b>: its latency stays under the SLO line, and after every failure (red dashed line) its backlog is worked off within the recovery target (the light red band).</p>
<p>A policy that hugs the bound but breaks the SLOs is not cheap, it is late; one that is always safe at twice the bound wastes half its slots.</p>
</div>

<h2>Scores</h2>
<p class="caption">mean p: slot-seconds per second. recovered: failures recovered within ${data.slo.recoveryTimeSeconds} s (hover for the times). latency SLO: fraction of seconds with latency ≤ ${data.slo.latencySeconds} s, outside failure recoveries. decision p95: wall time of the policy's decision.</p>
${scoreTable(data)}
<div id="report-error" role="alert"></div>
<noscript><p id="report-noscript">The charts need JavaScript (inlined in this file; no network access is needed).</p></noscript>

<h2>Arrival rate</h2>
<p class="caption">Records per second arriving in Kafka: the workload every policy faces.</p>
<div class="chart" id="chart-arrival"></div>

<h2>Parallelism against the lower bound p*(t)</h2>
<p class="caption">The area between a policy's line and the dashed bound is what it pays above the clairvoyant minimum; dipping below the bound risks the SLOs.</p>
<div class="chart" id="chart-parallelism"></div>

<h2>End-to-end latency against the SLO</h2>
<p class="caption">Log scale. Above the dashed line the latency SLO is missed; spikes at failures and rescales are their downtime.</p>
<div class="chart" id="chart-latency"></div>

<h2>Backlog (Kafka lag)</h2>
<p class="caption">Records waiting. After a failure the backlog should be back down before the light red band ends.</p>
<div class="chart" id="chart-lag"></div>

<footer>${bucket}${infeasible} Drag on a chart to zoom (double-click resets); click a legend entry to hide a line. Charts: uPlot ${escapeHtml(assets.version)} (MIT licence, inlined).</footer>
</main>
<script type="application/json" id="report-data">${json}</script>
<script>
/*
${inlineSafe(assets.license.replace(/\*\//g, '* /'), 'script')}
*/
${inlineSafe(assets.script, 'script')}
</script>
<script>
try {
${inlineSafe(client, 'script')}
} catch (err) {
  document.getElementById('report-error').textContent = 'The charts could not be drawn: ' + err;
  throw err;
}
</script>
</body>
</html>
`;
}
