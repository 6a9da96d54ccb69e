/**
 * A load generator for one URL: `node load-generator.js URL RATE SECONDS` sends RATE requests/s
 * for SECONDS (open loop, bounded) and prints {count, errors, p50, p99, max} in ms as JSON.
 */
import { performance } from 'node:perf_hooks';

const [url, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
if (!url || !(rate > 0) || !(seconds > 0) || seconds > 600) throw new Error('usage: load-generator URL RATE SECONDS (≤ 600 s)');
const total = Math.round(rate * seconds);
const latencies: number[] = [];
let errors = 0;
const started = performance.now();
const inflight: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const due = started + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const t0 = performance.now();
  inflight.push(fetch(url, { signal: AbortSignal.timeout(5000) }).then(async (res) => {
    await res.arrayBuffer();
    if (!res.ok) errors++;
    latencies.push(performance.now() - t0);
  }, () => { errors++; }));
}
await Promise.all(inflight);
latencies.sort((a, b) => a - b);
const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
process.stdout.write(`${JSON.stringify({ count: latencies.length, errors, p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] })}\n`);
