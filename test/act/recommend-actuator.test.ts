import { describe, expect, it } from 'vitest';
import { RecommendActuator } from '../../src/act/recommend-actuator.js';

describe('RecommendActuator', () => {
  it('changes nothing: every rescale is skipped', async () => {
    const actuator = new RecommendActuator();
    expect(actuator.mode).toBe('recommend');
    expect(await actuator.currentParallelism()).toBeUndefined();
    const result = await actuator.rescale({ parallelism: 6, reason: 'forecast peak above capacity\nsecond line' });
    expect(result).toEqual({ outcome: 'skipped', detail: 'recommend mode: would rescale to 6 (forecast peak above capacity); no change made', seconds: 0 });
  });

  it('reports the observed parallelism when given a source', async () => {
    let observed = 3;
    const actuator = new RecommendActuator({ observedParallelism: () => observed });
    expect(await actuator.currentParallelism()).toBe(3);
    observed = 4;
    expect(await actuator.currentParallelism()).toBe(4);
  });
});
