import { describe, expect, it } from 'vitest';
import { runInProcess as phoebe } from '../support/cli-run.js';

// `phoebe twin`'s arguments, in process; serving and stopping as a real process is tested in
// test/integration/sim/live/cli.test.ts.
describe('phoebe twin arguments', () => {
  it('refuses a non-loopback address before reading the scenario', async () => {
    const refused = await phoebe(['twin', '--scenario', 'no-such-scenario.yaml', '--listen', '0.0.0.0:8081']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/loopback/);
    expect(refused.stderr).not.toMatch(/no-such-scenario/);
  });

  it('documents the speed semantics in its help', async () => {
    const help = await phoebe(['twin', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/rates \(records\/s\) are multiplied by X/);
    expect(help.stdout).toMatch(/durations .* divided by X/s);
  });
});
