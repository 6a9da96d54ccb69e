import { afterEach, describe, expect, it } from 'vitest';
import type { RescaleRequest, RescaleResult } from '../../../src/act/actuator.js';
import { createKubeClients } from '../../../src/act/kubernetes/client.js';
import {
  buildRescaleEvent,
  EVENT_MESSAGE_MAX_BYTES,
  KubernetesEventRecorder,
  rescaleEventMessage,
  truncateUtf8,
  type EventTarget,
  type RescaleEventInput,
} from '../../../src/act/kubernetes/events.js';
import type { Decision } from '../../../src/planner/decision.js';
import { APP, LiveTwin, NS, unusedPort } from '../../support/live-twin.js';
import { RecordingLogger } from '../../support/recording-logger.js';

const FD_UID = '6f1a3c52-1b9e-4a55-9d0e-3f2f0c4b7e11';
const target: EventTarget = { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: APP, namespace: NS, uid: FD_UID };

const decision: Decision = {
  action: 'scale-up',
  currentParallelism: 2,
  recommendedParallelism: 4,
  reason: 'forecast peak 15k rec/s exceeds capacity at 2',
  inputs: {
    time: 1732500000,
    arrivalRate: 12345.6,
    lag: 4500,
    forecastStepSeconds: 60,
    forecastPeakUpper: 15000.4,
    restartDowntimeSeconds: 20,
    rescaleDowntimeSeconds: 31.25,
    capacityModel: 'usl',
    violationPrice: 3.5,
  },
  candidates: [
    { parallelism: 2, capacity: 9000, expectedCapacity: 9500, worstLatencySeconds: Infinity, worstRecoverySeconds: Infinity, recoveryNowSeconds: 40, meetsSlos: false },
    { parallelism: 4, capacity: 17000, expectedCapacity: 18000, worstLatencySeconds: 1.234, worstRecoverySeconds: 45.6, recoveryNowSeconds: 30, meetsSlos: true },
  ],
  requiredPerStep: [4, 4, 3],
  schedule: [4, 4, 4],
};

const request: RescaleRequest = { parallelism: 4, reason: 'forecast peak 15k rec/s exceeds capacity at 2', decision };
const completed: RescaleResult = { outcome: 'completed', parallelism: 4, detail: 'spec.job.parallelism 2 → 4; reconciled and RUNNING', seconds: 42.5 };

function input(over: Partial<RescaleEventInput> = {}): RescaleEventInput {
  return { target, mode: 'flink-deployment', from: 2, request, result: completed, ...over };
}


const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

describe('rescale event message', () => {
  it('says from → to, the outcome, the reason and the decision numbers', () => {
    const message = rescaleEventMessage(input());
    expect(message).toBe(
      '2 → 4 completed (flink-deployment, 42.5 s); forecast peak 15k rec/s exceeds capacity at 2; ' +
        'scale-up, arrival 12346 rec/s, lag 4500 rec, forecast peak ≤ 15000 rec/s, ' +
        'at p=4: capacity 17000 rec/s, worst latency 1.2 s, worst recovery 45.6 s, rescale downtime 31.3 s, model usl; ' +
        'spec.job.parallelism 2 → 4; reconciled and RUNNING',
    );
  });

  it('works without a decision and with an unknown starting parallelism', () => {
    const message = rescaleEventMessage(input({ from: undefined, request: { parallelism: 3, reason: 'manual' }, result: { outcome: 'failed', detail: 'boom', seconds: 1 } }));
    expect(message).toBe('? → 3 failed (flink-deployment, 1 s); manual; boom');
  });

  it('is cut to 1 KiB of UTF-8, never inside a character', () => {
    const long = '→ä€'.repeat(1000);
    const message = rescaleEventMessage(input({ result: { ...completed, detail: long }, request: { ...request, reason: long } }));
    expect(Buffer.byteLength(message, 'utf8')).toBeLessThanOrEqual(EVENT_MESSAGE_MAX_BYTES);
    expect(message.endsWith('…')).toBe(true);
    expect(message).not.toContain('\uFFFD');
    expect(truncateUtf8('abc', 10)).toBe('abc');
    expect(Buffer.byteLength(truncateUtf8('€'.repeat(400), 1024))).toBeLessThanOrEqual(1024);
  });

  it('keeps secrets out of the message', () => {
    const message = rescaleEventMessage(input({ result: { outcome: 'failed', detail: 'GET failed: Authorization: Bearer abcdefghijklmnop1234 at https://user:pw@host/x', seconds: 1 } }));
    expect(message).not.toContain('abcdefghijklmnop1234');
    expect(message).not.toContain('user:pw');
  });
});

describe('core/v1 Event body', () => {
  it('Rescaled / Normal for a completed rescale, on the target object, from phoebe', () => {
    const now = new Date('2025-11-25T01:02:03.000Z');
    const event = buildRescaleEvent(input(), { now, host: 'phoebe-0', nameSuffix: '19a5f0c3' });
    expect(event).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${APP}.19a5f0c3`, namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'phoebe' } },
      involvedObject: { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: APP, namespace: NS, uid: FD_UID },
      reason: 'Rescaled',
      type: 'Normal',
      message: rescaleEventMessage(input()),
      source: { component: 'phoebe', host: 'phoebe-0' },
      reportingComponent: 'phoebe',
      reportingInstance: 'phoebe-0',
      action: 'Rescale',
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
    });
  });

  it('RescaleFailed / Warning for a failed rescale', () => {
    const event = buildRescaleEvent(input({ result: { outcome: 'failed', detail: 'x', seconds: 1 } }), { now: new Date(), host: 'h', nameSuffix: 's' });
    expect(event.reason).toBe('RescaleFailed');
    expect(event.type).toBe('Warning');
  });
});

describe('KubernetesEventRecorder', () => {
  it('POSTs the event to the target namespace', async () => {
    const twin = await LiveTwin.start();
    open.push(twin);
    const clients = twin.kube();
    const recorder = new KubernetesEventRecorder({ core: clients.core, host: 'phoebe-0', logger: new RecordingLogger() });
    await recorder.recordRescale(input());
    const [post] = twin.find('POST', /events$/);
    expect(post!.path).toBe(`/api/v1/namespaces/${NS}/events`);
    expect(post!.headers['content-type']).toContain('application/json');
    const body = post!.json as Record<string, unknown>;
    expect(body).toMatchObject({
      kind: 'Event',
      reason: 'Rescaled',
      type: 'Normal',
      involvedObject: { kind: 'FlinkDeployment', name: APP, uid: FD_UID },
      source: { component: 'phoebe', host: 'phoebe-0' },
      count: 1,
    });
    expect(String((body.metadata as { name: string }).name)).toMatch(new RegExp(`^${APP}\\.[0-9a-f]+$`));
    expect(body.firstTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Buffer.byteLength(String(body.message))).toBeLessThanOrEqual(1024);
    expect(twin.events()).toHaveLength(1);
  });

  it('dates the event by its clock', async () => {
    const twin = await LiveTwin.start();
    open.push(twin);
    await twin.clock.advance(90_000);
    await new KubernetesEventRecorder({ core: twin.kube().core, logger: new RecordingLogger(), clock: twin.clock }).recordRescale(input());
    const [post] = twin.find('POST', /events$/);
    expect(Date.parse(String((post!.json as { firstTimestamp: string }).firstTimestamp))).toBe(twin.clock.now() - (twin.clock.now() % 1000));
  });

  it('records nothing for a skipped rescale', async () => {
    const twin = await LiveTwin.start();
    open.push(twin);
    await new KubernetesEventRecorder({ core: twin.kube().core }).recordRescale(input({ result: { outcome: 'skipped', detail: '', seconds: 0 } }));
    expect(twin.requests).toHaveLength(0);
  });

  it('logs and ignores a refused event (403) and an unreachable API server', async () => {
    const twin = await LiveTwin.start();
    open.push(twin);
    twin.arm({ fault: 'kube-error', on: 'events', status: 403, message: 'events is forbidden: User "system:serviceaccount:streaming:phoebe" cannot create resource "events"' });
    const logger = new RecordingLogger();
    const clients = twin.kube();
    await expect(new KubernetesEventRecorder({ core: clients.core, logger }).recordRescale(input())).resolves.toBeUndefined();
    expect(logger.lines[0]).toContain('could not record the rescale event');
    expect(logger.lines[0]).toContain('Kubernetes API HTTP 403 Forbidden');

    const port = await unusedPort();
    const down = createKubeClients({ kind: 'server', server: `http://127.0.0.1:${port}` });
    await expect(new KubernetesEventRecorder({ core: down.core, logger, requestTimeoutMs: 500 }).recordRescale(input())).resolves.toBeUndefined();
    expect(logger.lines[1]).toContain('connection refused');
  });
});
