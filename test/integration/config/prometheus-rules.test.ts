import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';

// promtool comes with Debian's prometheus package, which `npm test` installs (pretest).
function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: 'config/prometheus', encoding: 'utf8' });
  if (run.error) throw new Error(`promtool not runnable: ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', 'phoebe-rules.yaml');
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const { status, output } = promtool('test', 'rules', 'phoebe-rules.test.yaml');
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it('name every alert Phoebe…, with a severity and summary/description, and test each firing and quiet', () => {
    const rules = (parse(readFileSync('config/prometheus/phoebe-rules.yaml', 'utf8')) as { groups: { rules: { alert: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[] }).groups.flatMap((g) => g.rules);
    const tests = parse(readFileSync('config/prometheus/phoebe-rules.test.yaml', 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Phoebe[A-Z]/);
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.description).toBeTruthy();
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${rule.alert} fires in a test`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${rule.alert} stays quiet in a test`).toBe(true);
    }
  });
});
