import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { Secret } from '../util/secret.js';
import { UserError } from '../util/user-error.js';
import type { ActuationMode } from '../act/actuator.js';
import {
  DEFAULT_LATENCY_QUANTILE, DEFAULT_RATE_WINDOW, DEFAULT_SOURCE_TASK_PATTERN, QUERY_KEYS, defaultQueries,
  type QueryKey, type QuerySet,
} from '../observe/promql-catalogue.js';
import { ADMIN_TOKEN_RULE, adminTokenProblem } from '../export/admin.js';
import { describeIssues } from './schema-errors.js';

/** Where the flink-rest rescale journal lives unless configured (actuation.flinkRest.stateDirectory). */
export const DEFAULT_STATE_DIRECTORY = join(tmpdir(), 'phoebe');

/**
 * phoebe's one configuration file (see config/phoebe.example.yaml): validated by a strict
 * schema whose errors name the key, completed with defaults, with secrets and addresses
 * overridable from the environment. Secrets are held in `Secret`, which never prints itself.
 */


/** Environment variables that override a key: secrets and addresses. */
export const ENV_OVERRIDES = [
  { name: 'PHOEBE_PROMETHEUS_URL', path: ['prometheus', 'url'] },
  { name: 'PHOEBE_PROMETHEUS_USERNAME', path: ['prometheus', 'basicAuth', 'username'] },
  { name: 'PHOEBE_PROMETHEUS_PASSWORD', path: ['prometheus', 'basicAuth', 'password'], replaces: 'passwordFile' },
  { name: 'PHOEBE_PROMETHEUS_BEARER_TOKEN', path: ['prometheus', 'bearerToken'], replaces: 'bearerTokenFile' },
  { name: 'PHOEBE_FLINK_REST_URL', path: ['job', 'flinkRest', 'url'] },
  { name: 'PHOEBE_KUBECONFIG', path: ['actuation', 'kubernetes', 'kubeconfig'] },
  { name: 'PHOEBE_LISTEN', path: ['exporter', 'listen'] },
  { name: 'PHOEBE_ADMIN_TOKEN', path: ['admin', 'token'], replaces: 'tokenFile' },
  { name: 'PHOEBE_LEADER_ELECTION', path: ['leaderElection', 'enabled'] },
  { name: 'PHOEBE_LEASE_NAME', path: ['leaderElection', 'leaseName'] },
  { name: 'PHOEBE_LEASE_NAMESPACE', path: ['leaderElection', 'namespace'] },
  { name: 'PHOEBE_POD_NAME', path: ['leaderElection', 'identity'] },
] as const satisfies ReadonlyArray<{ name: string; path: readonly string[]; replaces?: string }>;

export const ACTUATION_MODES = ['recommend', 'flink-rest', 'flink-deployment', 'taskmanager-deployment'] as const satisfies readonly ActuationMode[];

const nonEmpty = z.string().min(1);
const positive = z.number().positive();
const positiveInt = z.number().int().min(1);
const nonNegative = z.number().nonnegative();

function isHttpUrlWithoutCredentials(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && url.hostname !== '';
}

/** Never echoes the value: a URL may carry a password. */
const httpUrl = nonEmpty.refine(isHttpUrlWithoutCredentials, {
  message: 'must be an http:// or https:// URL without user:password@ (credentials go in their own keys)',
});

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const k8sRef = z.strictObject({
  namespace: z.string().max(63).regex(K8S_NAME, 'must be a Kubernetes namespace name (lower-case letters, digits, -)'),
  name: z.string().max(253).regex(K8S_NAME, 'must be a Kubernetes object name (lower-case letters, digits, -, .)'),
});

const PROM_DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const LISTEN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function isRegex(value: string): boolean {
  try {
    new RegExp(value);
    return true;
  } catch {
    return false;
  }
}

const prometheusSchema = z.strictObject({
  url: httpUrl,
  timeoutSeconds: positive.max(600).default(10),
  basicAuth: z.strictObject({
    username: nonEmpty,
    password: nonEmpty.optional(),
    passwordFile: nonEmpty.optional(),
  }).optional(),
  bearerToken: nonEmpty.optional(),
  bearerTokenFile: nonEmpty.optional(),
  tls: z.strictObject({
    caFile: nonEmpty.optional(),
    insecureSkipVerify: z.boolean().default(false),
  }).default({ insecureSkipVerify: false }),
}).superRefine((p, ctx) => {
  if (p.basicAuth) {
    const { password, passwordFile } = p.basicAuth;
    if (password !== undefined && passwordFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['basicAuth', 'passwordFile'], message: 'give either password (or PHOEBE_PROMETHEUS_PASSWORD) or passwordFile, not both' });
    } else if (password === undefined && passwordFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['basicAuth', 'password'], message: 'needs password, passwordFile or PHOEBE_PROMETHEUS_PASSWORD' });
    }
  }
  if (p.bearerToken !== undefined && p.bearerTokenFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['bearerTokenFile'], message: 'give either bearerToken (or PHOEBE_PROMETHEUS_BEARER_TOKEN) or bearerTokenFile, not both' });
  }
  if (p.basicAuth && (p.bearerToken !== undefined || p.bearerTokenFile !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['basicAuth'], message: 'give either basicAuth or a bearer token, not both' });
  }
});

const jobSchema = z.strictObject({
  name: nonEmpty,
  id: z.string().regex(/^[0-9a-f]{32}$/, 'must be a Flink job id (32 hex digits)').optional(),
  sourceTaskPattern: nonEmpty.refine(isRegex, { message: 'must be a regular expression' }).default(DEFAULT_SOURCE_TASK_PATTERN),
  checkpointIntervalSeconds: positive,
  kafka: z.strictObject({
    topic: nonEmpty.optional(),
    consumerGroup: nonEmpty.optional(),
  }).default({}).superRefine((k, ctx) => {
    if (k.consumerGroup !== undefined && k.topic === undefined) {
      ctx.addIssue({ code: 'custom', path: ['topic'], message: 'is needed with consumerGroup (kafka_exporter lag is per topic)' });
    }
  }),
  flinkRest: z.strictObject({ url: httpUrl }).optional(),
  flinkDeployment: k8sRef.optional(),
  taskManagerDeployment: k8sRef.optional(),
});

/** Leader election over one coordination.k8s.io Lease (src/act/leader-lease.ts). */
const leaderElectionSchema = z.strictObject({
  // A boolean, or "true"/"false" from PHOEBE_LEADER_ELECTION.
  enabled: z.union([z.boolean(), z.stringbool()]).default(false),
  leaseName: z.string().max(253).regex(K8S_NAME, 'must be a Kubernetes object name (lower-case letters, digits, -, .)').optional(),
  namespace: z.string().max(63).regex(K8S_NAME, 'must be a Kubernetes namespace name (lower-case letters, digits, -)').optional(),
  identity: nonEmpty.max(253).optional(),
  leaseDurationSeconds: positiveInt.max(3600).default(15),
  renewEverySeconds: positive.default(5),
}).superRefine((l, ctx) => {
  if (l.renewEverySeconds * 2 > l.leaseDurationSeconds) {
    ctx.addIssue({ code: 'custom', path: ['renewEverySeconds'], message: `must be at most half of leaderElection.leaseDurationSeconds (${l.leaseDurationSeconds})` });
  }
  if (l.enabled && l.leaseName === undefined) {
    ctx.addIssue({ code: 'custom', path: ['leaseName'], message: 'is required when leaderElection.enabled is true (or set PHOEBE_LEASE_NAME)' });
  }
});

/** The admin API (src/export/admin.ts): off unless enabled, and then only with a token. */
const adminSchema = z.strictObject({
  enabled: z.boolean().default(false),
  // Never echoed: the message names the rule only.
  token: z.string().refine((t) => adminTokenProblem(t) === undefined, { message: ADMIN_TOKEN_RULE }).optional(),
  tokenFile: nonEmpty.optional(),
}).superRefine((a, ctx) => {
  if (a.token !== undefined && a.tokenFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'give either token (or PHOEBE_ADMIN_TOKEN) or tokenFile, not both' });
  }
  if (a.enabled && a.token === undefined && a.tokenFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'is required when admin.enabled is true (or set PHOEBE_ADMIN_TOKEN)' });
  }
});

const DEFAULT_LIMITS = { minSecondsBetweenRescales: 60, maxRescalesPerHour: 12, circuitBreakerFailures: 3 };

const queryOverrides = Object.fromEntries(QUERY_KEYS.map((key) => [key, nonEmpty.optional()])) as Record<QueryKey, z.ZodOptional<z.ZodString>>;

export const phoebeConfigSchema = z.strictObject({
  prometheus: prometheusSchema,
  job: jobSchema,
  slo: z.strictObject({
    latencySeconds: positive,
    latencyObjective: z.number().gt(0).lt(1).default(0.98),
    recoveryTimeSeconds: positive,
  }),
  parallelism: z.strictObject({
    min: positiveInt.default(1),
    max: positiveInt,
  }).superRefine((p, ctx) => {
    if (p.max < p.min) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be ≥ parallelism.min (${p.min})` });
  }),
  decision: z.strictObject({
    intervalSeconds: positiveInt.default(30),
  }).default({ intervalSeconds: 30 }),
  priors: z.strictObject({
    restartSeconds: nonNegative.default(30),
    rescaleSeconds: nonNegative.optional(),
  }).default({ restartSeconds: 30 }),
  actuation: z.strictObject({
    mode: z.enum(ACTUATION_MODES).default('recommend'),
    flinkRest: z.strictObject({
      jarId: nonEmpty.optional(),
      jarName: nonEmpty.optional(),
      entryClass: nonEmpty.optional(),
      programArgs: z.array(z.string()).default([]),
      savepointDirectory: nonEmpty.optional(),
      savepointTimeoutSeconds: positive.default(600),
      // The rescale journal (an interrupted rescale is resumed from it after a restart). The OS temp
      // directory works without setup and survives a process restart; in Kubernetes mount a volume.
      stateDirectory: nonEmpty.default(DEFAULT_STATE_DIRECTORY),
    }).superRefine((f, ctx) => {
      if ((f.jarId === undefined) === (f.jarName === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['jarId'], message: 'give exactly one of jarId and jarName' });
      }
    }).optional(),
    flinkDeployment: z.strictObject({
      perVertexOverride: z.boolean().default(false),
      timeoutSeconds: positive.default(600),
    }).default({ perVertexOverride: false, timeoutSeconds: 600 }),
    taskManagerDeployment: z.strictObject({
      slotsPerTaskManager: positiveInt.default(1),
      timeoutSeconds: positive.default(600),
    }).default({ slotsPerTaskManager: 1, timeoutSeconds: 600 }),
    kubernetes: z.strictObject({
      kubeconfig: nonEmpty.optional(),
    }).default({}),
    limits: z.strictObject({
      minSecondsBetweenRescales: nonNegative.default(DEFAULT_LIMITS.minSecondsBetweenRescales),
      maxRescalesPerHour: positiveInt.default(DEFAULT_LIMITS.maxRescalesPerHour),
      circuitBreakerFailures: positiveInt.default(DEFAULT_LIMITS.circuitBreakerFailures),
    }).default(DEFAULT_LIMITS),
  }).default({
    mode: 'recommend',
    flinkDeployment: { perVertexOverride: false, timeoutSeconds: 600 },
    taskManagerDeployment: { slotsPerTaskManager: 1, timeoutSeconds: 600 },
    kubernetes: {},
    limits: DEFAULT_LIMITS,
  }),
  queries: z.strictObject({
    rateWindow: z.string().regex(PROM_DURATION, 'must be a PromQL duration such as 1m or 90s').default(DEFAULT_RATE_WINDOW),
    latencyQuantile: z.number().gt(0).lt(1).default(DEFAULT_LATENCY_QUANTILE),
    ...queryOverrides,
  }).default({ rateWindow: DEFAULT_RATE_WINDOW, latencyQuantile: DEFAULT_LATENCY_QUANTILE }),
  history: z.strictObject({
    backfillSeconds: positiveInt.default(6 * 3600),
    stepSeconds: positiveInt.default(1),
    carryForwardSeconds: z.number().int().nonnegative().default(30),
  }).default({ backfillSeconds: 6 * 3600, stepSeconds: 1, carryForwardSeconds: 30 }).superRefine((h, ctx) => {
    if (h.backfillSeconds < h.stepSeconds) ctx.addIssue({ code: 'custom', path: ['backfillSeconds'], message: `must be ≥ history.stepSeconds (${h.stepSeconds})` });
  }),
  exporter: z.strictObject({
    listen: z.string().regex(LISTEN, 'must be host:port, e.g. 127.0.0.1:9464').refine((v) => {
      const port = Number(LISTEN.exec(v)?.[2]);
      return port >= 1 && port <= 65535;
    }, { message: 'port must be 1..65535' }).default('127.0.0.1:9464'),
  }).default({ listen: '127.0.0.1:9464' }),
  leaderElection: leaderElectionSchema.default({ enabled: false, leaseDurationSeconds: 15, renewEverySeconds: 5 }),
  admin: adminSchema.default({ enabled: false }),
}).superRefine((c, ctx) => {
  const mode = c.actuation.mode;
  if (mode === 'flink-rest') {
    if (!c.job.flinkRest) ctx.addIssue({ code: 'custom', path: ['job', 'flinkRest', 'url'], message: 'is required when actuation.mode is flink-rest (or set PHOEBE_FLINK_REST_URL)' });
    if (!c.actuation.flinkRest) ctx.addIssue({ code: 'custom', path: ['actuation', 'flinkRest'], message: 'is required when actuation.mode is flink-rest (jarId or jarName at least)' });
  }
  if (mode === 'flink-deployment' && !c.job.flinkDeployment) {
    ctx.addIssue({ code: 'custom', path: ['job', 'flinkDeployment'], message: 'is required when actuation.mode is flink-deployment (namespace and name)' });
  }
  if (mode === 'taskmanager-deployment' && !c.job.taskManagerDeployment) {
    ctx.addIssue({ code: 'custom', path: ['job', 'taskManagerDeployment'], message: 'is required when actuation.mode is taskmanager-deployment (namespace and name)' });
  }
  if (c.decision.intervalSeconds < c.history.stepSeconds) {
    ctx.addIssue({ code: 'custom', path: ['decision', 'intervalSeconds'], message: `must be ≥ history.stepSeconds (${c.history.stepSeconds})` });
  }
});

type Parsed = z.output<typeof phoebeConfigSchema>;

export interface NamespacedName {
  namespace: string;
  name: string;
}

/** The validated configuration with every default filled in. */
export interface PhoebeConfig {
  /** Where it came from, for messages. */
  source: string;
  /** Names of the environment variables that overrode a key. */
  envOverrides: string[];
  prometheus: {
    url: string;
    timeoutSeconds: number;
    basicAuth?: { username: string; password?: Secret; passwordFile?: string };
    bearerToken?: Secret;
    bearerTokenFile?: string;
    tls: { caFile?: string; insecureSkipVerify: boolean };
  };
  job: {
    /** Flink job name (the reporter's job_name label, matched whether sanitised or not). */
    name: string;
    id?: string;
    sourceTaskPattern: string;
    checkpointIntervalSeconds: number;
    kafka: { topic?: string; consumerGroup?: string };
    flinkRest?: { url: string };
    flinkDeployment?: NamespacedName;
    taskManagerDeployment?: NamespacedName;
  };
  slo: { latencySeconds: number; latencyObjective: number; recoveryTimeSeconds: number };
  parallelism: { min: number; max: number };
  decision: { intervalSeconds: number };
  priors: { restartSeconds: number; rescaleSeconds: number };
  actuation: {
    mode: ActuationMode;
    flinkRest?: {
      jarId?: string;
      jarName?: string;
      entryClass?: string;
      programArgs: string[];
      savepointDirectory?: string;
      savepointTimeoutSeconds: number;
      /** Directory of the flink-rest rescale journal (default: <OS temp dir>/phoebe). */
      stateDirectory: string;
    };
    flinkDeployment: { perVertexOverride: boolean; timeoutSeconds: number };
    taskManagerDeployment: { slotsPerTaskManager: number; timeoutSeconds: number };
    /** Without a kubeconfig, the in-cluster service account is used. */
    kubernetes: { kubeconfig?: string; inCluster: boolean };
    /** The safety net in front of the actuator (src/loop/actuation-limits.ts). */
    limits: { minSecondsBetweenRescales: number; maxRescalesPerHour: number; circuitBreakerFailures: number };
  };
  /** The PromQL of every signal: the user's where given, else the catalogue's. */
  queries: QuerySet & { rateWindow: string; latencyQuantile: number };
  /** Which queries the user replaced. */
  queryOverrides: QueryKey[];
  history: { backfillSeconds: number; stepSeconds: number; carryForwardSeconds: number };
  exporter: { listen: string; host: string; port: number };
  /** Only the holder of the Lease acts; namespace default: the pod's; identity default: host name + random suffix. */
  leaderElection: {
    enabled: boolean;
    leaseName?: string;
    namespace?: string;
    identity?: string;
    leaseDurationSeconds: number;
    renewEverySeconds: number;
  };
  /** The admin API; with enabled, exactly one of token and tokenFile. */
  admin: { enabled: boolean; token?: Secret; tokenFile?: string };
}

export interface LoadOptions {
  /** Check that the files the config names (CA, password/token files, kubeconfig) are readable. Default true. */
  checkFiles?: boolean;
}

/** Reads, overrides from the environment, validates and completes the configuration. */
export function loadPhoebeConfig(path: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): PhoebeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  return parsePhoebeConfig(text, path, env, options);
}

export function parsePhoebeConfig(text: string, source: string, env: NodeJS.ProcessEnv = {}, options: LoadOptions = {}): PhoebeConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      // Only the position and the kind: the offending line may hold a secret.
      const pos = err.linePos?.[0];
      throw new UserError(`${source}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML (${err.code})`);
    }
    throw err;
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${source}: document: expected a mapping of keys`);

  dropNulls(raw as Record<string, unknown>);
  const applied = applyEnvOverrides(raw as Record<string, unknown>, env);
  const parsed = phoebeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const line = describeIssues(new z.ZodError([issue]), source);
      const fromEnv = applied.find((o) => issue.path.length >= o.path.length && o.path.every((p, i) => issue.path[i] === p));
      return fromEnv ? `${line} (value from ${fromEnv.name})` : line;
    });
    throw new UserError(lines.join('\n'));
  }
  const config = complete(parsed.data, source, applied.map((o) => o.name));
  if (options.checkFiles ?? true) checkFiles(config);
  return config;
}

/**
 * A key without a value (`kubernetes:` with its lines commented out) is YAML null: an empty
 * section at the top level (so a missing key inside is named), absent below it (so the default
 * applies or the key is reported missing).
 */
function dropNulls(node: Record<string, unknown>, top = true): void {
  for (const [key, value] of Object.entries(node)) {
    if (value === null) {
      if (top) node[key] = {};
      else delete node[key];
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      dropNulls(value as Record<string, unknown>, false);
    }
  }
}

type Override = (typeof ENV_OVERRIDES)[number];

/** Writes each set environment variable into the raw document; returns those applied. */
function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Override[] {
  const applied: Override[] = [];
  for (const override of ENV_OVERRIDES) {
    const value = env[override.name];
    if (value === undefined || value === '') continue;
    let node: Record<string, unknown> = raw;
    let ok = true;
    for (const key of override.path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined || next === null) node[key] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) { ok = false; break; }
      node = node[key] as Record<string, unknown>;
    }
    // A non-mapping on the way is left for the schema to report.
    if (!ok) continue;
    node[override.path[override.path.length - 1] as string] = value;
    if ('replaces' in override) delete node[override.replaces];
    applied.push(override);
  }
  return applied;
}

function complete(c: Parsed, source: string, envOverrides: string[]): PhoebeConfig {
  const catalogue = defaultQueries({
    jobName: c.job.name,
    sourceTaskPattern: c.job.sourceTaskPattern,
    ...(c.job.kafka.topic !== undefined ? { topic: c.job.kafka.topic } : {}),
    ...(c.job.kafka.consumerGroup !== undefined ? { consumerGroup: c.job.kafka.consumerGroup } : {}),
    rateWindow: c.queries.rateWindow,
    latencyQuantile: c.queries.latencyQuantile,
  });
  const queries = { ...catalogue } as Record<QueryKey, string>;
  const queryOverrides: QueryKey[] = [];
  for (const key of QUERY_KEYS) {
    const given = c.queries[key];
    if (given !== undefined) {
      queries[key] = given;
      queryOverrides.push(key);
    }
  }
  const listen = LISTEN.exec(c.exporter.listen);
  const host = (listen?.[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  const { basicAuth, bearerToken, ...prometheus } = c.prometheus;
  const { rescaleSeconds, ...priors } = c.priors;
  const { token: adminToken, ...admin } = c.admin;
  return {
    source,
    envOverrides,
    prometheus: {
      ...prometheus,
      ...(basicAuth ? {
        basicAuth: {
          username: basicAuth.username,
          ...(basicAuth.password !== undefined ? { password: new Secret(basicAuth.password) } : {}),
          ...(basicAuth.passwordFile !== undefined ? { passwordFile: basicAuth.passwordFile } : {}),
        },
      } : {}),
      ...(bearerToken !== undefined ? { bearerToken: new Secret(bearerToken) } : {}),
    },
    job: c.job,
    slo: c.slo,
    parallelism: c.parallelism,
    decision: c.decision,
    priors: { ...priors, rescaleSeconds: rescaleSeconds ?? priors.restartSeconds },
    actuation: {
      ...c.actuation,
      kubernetes: { ...c.actuation.kubernetes, inCluster: c.actuation.kubernetes.kubeconfig === undefined },
    },
    queries: { ...queries, rateWindow: c.queries.rateWindow, latencyQuantile: c.queries.latencyQuantile },
    queryOverrides,
    history: c.history,
    exporter: { listen: c.exporter.listen, host, port: Number(listen?.[2]) },
    leaderElection: c.leaderElection,
    admin: { ...admin, ...(adminToken !== undefined ? { token: new Secret(adminToken.trim()) } : {}) },
  };
}

/** Every file the configuration names must be readable now, or start-up fails naming the key. */
function checkFiles(config: PhoebeConfig): void {
  const files: Array<[string, string | undefined]> = [
    ['prometheus.tls.caFile', config.prometheus.tls.caFile],
    ['prometheus.basicAuth.passwordFile', config.prometheus.basicAuth?.passwordFile],
    ['prometheus.bearerTokenFile', config.prometheus.bearerTokenFile],
    ['admin.tokenFile', config.admin.tokenFile],
  ];
  const usesKubernetes = config.actuation.mode === 'flink-deployment' || config.actuation.mode === 'taskmanager-deployment' || config.leaderElection.enabled;
  if (usesKubernetes) files.push(['actuation.kubernetes.kubeconfig', config.actuation.kubernetes.kubeconfig]);
  const problems: string[] = [];
  for (const [key, file] of files) {
    if (file === undefined) continue;
    try {
      accessSync(file, fsConstants.R_OK);
    } catch (err) {
      problems.push(`${config.source}: "${key}": cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  }
  if (problems.length > 0) throw new UserError(problems.join('\n'));
}

/** The configuration as plain data with every secret replaced by `<redacted>`, for printing. */
export function redactedConfig(config: PhoebeConfig): Record<string, unknown> {
  return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}

/** The secret values of the configuration (for scrubbing messages), longest first. */
export function secretValues(config: PhoebeConfig): string[] {
  const values = [config.prometheus.basicAuth?.password?.reveal(), config.prometheus.bearerToken?.reveal(), config.admin.token?.reveal()];
  return values.filter((v): v is string => v !== undefined && v.length > 0).sort((a, b) => b.length - a.length);
}
