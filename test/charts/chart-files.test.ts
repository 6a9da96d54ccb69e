import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The chart's files/ are copies of the single sources; the rendered chart (helm) is tested in
// test/integration/charts/chart.test.ts.
const CHART = 'charts/phoebe';

describe('chart files are copies of the single sources', () => {
  it('files/phoebe-rules.yaml is config/prometheus/phoebe-rules.yaml', () => {
    expect(readFileSync(`${CHART}/files/phoebe-rules.yaml`, 'utf8')).toBe(readFileSync('config/prometheus/phoebe-rules.yaml', 'utf8'));
  });

  it('files/dashboards/*.json are grafana/*.json', () => {
    const sources = readdirSync('grafana').filter((f) => f.endsWith('.json')).sort();
    expect(sources.length).toBeGreaterThan(0);
    expect(readdirSync(`${CHART}/files/dashboards`).sort()).toEqual(sources);
    for (const file of sources) {
      expect(readFileSync(`${CHART}/files/dashboards/${file}`, 'utf8'), file).toBe(readFileSync(`grafana/${file}`, 'utf8'));
    }
  });
});
