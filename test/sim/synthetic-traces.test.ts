import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stepFlashCrowd } from './synthetic-traces.js';

describe('synthetic traces', () => {
  it('config/traces/step-flash-crowd.csv is exactly what its generator produces', () => {
    expect(readFileSync('config/traces/step-flash-crowd.csv', 'utf8')).toBe(stepFlashCrowd());
  });
});
