/**
 * Every rescale leaves a core/v1 Event on the object it changed (the FlinkDeployment, the TaskManager
 * Deployment, or for flink-rest an optionally configured object), so `kubectl describe` shows what
 * phoebe did and why:
 *   reason Rescaled (type Normal) or RescaleFailed (type Warning), source component `phoebe`,
 *   message "from → to outcome (mode): reason; key numbers of the decision; detail", ≤ 1 KiB.
 * Recording an event never fails a rescale: errors are logged and dropped.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../util/clock.js';
import type { ActuationMode, RescaleRequest, RescaleResult } from '../actuator.js';
import type { Decision } from '../../planner/decision.js';
import { describeError, redact } from '../errors.js';
import { callOptions } from './client.js';
import { stderrLogger, type ActLogger } from '../logger.js';

export const EVENT_COMPONENT = 'phoebe';
export const EVENT_MESSAGE_MAX_BYTES = 1024;
export const REASON_RESCALED = 'Rescaled';
export const REASON_RESCALE_FAILED = 'RescaleFailed';

/** The object an event is about (core/v1 ObjectReference). */
export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export interface RescaleEventInput {
  target: EventTarget;
  mode: ActuationMode;
  /** Parallelism before the rescale, if known. */
  from: number | undefined;
  request: RescaleRequest;
  result: RescaleResult;
}

/** Where actuators send their rescale events; the Kubernetes recorder is one, tests use fakes. */
export interface RescaleEventSink {
  /** Never rejects. */
  recordRescale(input: RescaleEventInput): Promise<void>;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '∞' : n < 0 ? '-∞' : 'n/a';
  const abs = Math.abs(n);
  if (abs >= 100) return String(Math.round(n));
  if (abs >= 1) return String(Math.round(n * 10) / 10);
  return String(Math.round(n * 1000) / 1000);
}

/** The decision's numbers that explain a rescale, in one line. */
export function decisionSummary(decision: Decision, target: number): string {
  const i = decision.inputs;
  const parts = [
    `${decision.action}`,
    `arrival ${fmt(i.arrivalRate)} rec/s`,
    `lag ${fmt(i.lag)} rec`,
    `forecast peak ≤ ${fmt(i.forecastPeakUpper)} rec/s`,
  ];
  const at = decision.candidates.find((c) => c.parallelism === target);
  if (at) {
    parts.push(
      `at p=${target}: capacity ${fmt(at.capacity)} rec/s, worst latency ${fmt(at.worstLatencySeconds)} s, worst recovery ${fmt(at.worstRecoverySeconds)} s${at.meetsSlos ? '' : ' (misses an SLO)'}`,
    );
  }
  parts.push(`rescale downtime ${fmt(i.rescaleDowntimeSeconds)} s`, `model ${i.capacityModel}`);
  if (decision.heldBy) parts.push(`held by ${decision.heldBy}`);
  return parts.join(', ');
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character, marking the cut with "…". */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const ellipsis = '…';
  const budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > budget) break;
    out += ch;
    bytes += size;
  }
  return out + ellipsis;
}

export function rescaleEventMessage(input: RescaleEventInput): string {
  const { from, request, result, mode } = input;
  const to = request.parallelism;
  const head = `${from ?? '?'} → ${to} ${result.outcome} (${mode}, ${fmt(result.seconds)} s)`;
  const parts = [head, redact(request.reason.split('\n')[0] ?? '', 200)];
  if (request.decision) parts.push(decisionSummary(request.decision, to));
  parts.push(redact(result.detail, 600));
  return truncateUtf8(parts.filter((p) => p !== '').join('; '), EVENT_MESSAGE_MAX_BYTES);
}

export interface BuildEventOptions {
  now: Date;
  /** reportingInstance / source.host: the pod's name. */
  host: string;
  /** Suffix for a unique event name. */
  nameSuffix: string;
}

/** The core/v1 Event for one rescale (skipped rescales have none). */
export function buildRescaleEvent(input: RescaleEventInput, options: BuildEventOptions): CoreV1Event {
  const failed = input.result.outcome === 'failed';
  const { target } = input;
  // Event names follow the kubelet's <object>.<hex> convention; names are at most 253 characters.
  const name = `${target.name.slice(0, 200)}.${options.nameSuffix}`;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: target.namespace, labels: { 'app.kubernetes.io/managed-by': EVENT_COMPONENT } },
    involvedObject: {
      apiVersion: target.apiVersion,
      kind: target.kind,
      name: target.name,
      namespace: target.namespace,
      ...(target.uid ? { uid: target.uid } : {}),
    },
    reason: failed ? REASON_RESCALE_FAILED : REASON_RESCALED,
    type: failed ? 'Warning' : 'Normal',
    message: rescaleEventMessage(input),
    source: { component: EVENT_COMPONENT, host: options.host },
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: options.host,
    action: 'Rescale',
    count: 1,
    firstTimestamp: options.now,
    lastTimestamp: options.now,
  };
}

export interface KubernetesEventRecorderOptions {
  core: CoreV1Api;
  /** Per-request timeout (ms). Default 5 000. */
  requestTimeoutMs?: number;
  /** The reporting instance; default $HOSTNAME (the pod name) or the OS host name. */
  host?: string;
  logger?: ActLogger;
  /** Dates the events. Default: the system clock. */
  clock?: Clock;
}

export class KubernetesEventRecorder implements RescaleEventSink {
  private readonly core: CoreV1Api;
  private readonly timeoutMs: number;
  private readonly host: string;
  private readonly logger: ActLogger;
  private readonly clock: Clock;

  constructor(options: KubernetesEventRecorderOptions) {
    this.core = options.core;
    this.timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.host = options.host ?? process.env.HOSTNAME ?? hostname();
    this.logger = options.logger ?? stderrLogger;
    this.clock = options.clock ?? systemClock;
  }

  async recordRescale(input: RescaleEventInput): Promise<void> {
    if (input.result.outcome === 'skipped') return;
    try {
      const now = new Date(this.clock.now());
      const suffix = `${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`;
      const body = buildRescaleEvent(input, { now, host: this.host, nameSuffix: suffix });
      await this.core.createNamespacedEvent({ namespace: input.target.namespace, body }, callOptions(this.timeoutMs));
    } catch (err) {
      this.logger.warn('could not record the rescale event (ignored)', {
        target: `${input.target.kind} ${input.target.namespace}/${input.target.name}`,
        error: describeError(err),
      });
    }
  }
}

/** Records to every sink that is set; used by the actuators. */
export async function recordRescaleEvent(sink: RescaleEventSink | undefined, input: RescaleEventInput, logger: ActLogger): Promise<void> {
  if (!sink) return;
  try {
    await sink.recordRescale(input);
  } catch (err) {
    // A sink must not reject; if one does, the rescale's outcome still stands.
    logger.warn('rescale event sink failed (ignored)', { error: describeError(err) });
  }
}
