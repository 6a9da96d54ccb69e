import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { nonEmpty, nonNegative, positive, positiveInt } from '../util/schema-primitives.js';
import { Secret } from '../util/secret.js';
import { UserError } from '../util/user-error.js';
import { ACTUATION_MODES } from '../act/actuator.js';
import { actuationIssues, actuationSettingsShape } from '../act/mode-settings.js';
import {
  DEFAULT_LATENCY_QUANTILE, DEFAULT_RATE_WINDOW, DEFAULT_SOURCE_TASK_PATTERN, QUERY_KEYS, defaultQueries,
  type QueryKey,
} from '../observe/promql-catalogue.js';
import { ADMIN_TOKEN_RULE, adminTokenProblem } from '../export/admin-token.js';
import { describeIssues } from './schema-errors.js';

/**
 * phoebe's one configuration file (see config/phoebe.example.yaml): validated by a strict
 * schema whose errors name the key, completed with defaults (each written once, in the schema),
 * with secrets and addresses overridable from the environment. Secrets are held in `Secret`,
 * which never prints itself. The type of the result is the schema's output.
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

export { ACTUATION_MODES };

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

/** A secret: held in Secret from here on, so it never prints. */
const secret = nonEmpty.transform((value) => new Secret(value));

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const k8sNamespace = z.string().max(63).regex(K8S_NAME, 'must be a Kubernetes namespace name (lower-case letters, digits, -)');
const k8sObjectName = z.string().max(253).regex(K8S_NAME, 'must be a Kubernetes object name (lower-case letters, digits, -, .)');
const k8sRef = z.strictObject({ namespace: k8sNamespace, name: k8sObjectName });

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
    password: secret.optional(),
    passwordFile: nonEmpty.optional(),
  }).optional(),
  bearerToken: secret.optional(),
  bearerTokenFile: nonEmpty.optional(),
  tls: z.strictObject({
    caFile: nonEmpty.optional(),
    insecureSkipVerify: z.boolean().default(false),
  }).prefault({}),
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
  /** Flink job name (the reporter's job_name label, matched whether sanitised or not). */
  name: nonEmpty,
  id: z.string().regex(/^[0-9a-f]{32}$/, 'must be a Flink job id (32 hex digits)').optional(),
  sourceTaskPattern: nonEmpty.refine(isRegex, { message: 'must be a regular expression' }).default(DEFAULT_SOURCE_TASK_PATTERN),
  checkpointIntervalSeconds: positive,
  kafka: z.strictObject({
    topic: nonEmpty.optional(),
    consumerGroup: nonEmpty.optional(),
  }).prefault({}).superRefine((k, ctx) => {
    if (k.consumerGroup !== undefined && k.topic === undefined) {
      ctx.addIssue({ code: 'custom', path: ['topic'], message: 'is needed with consumerGroup (kafka_exporter lag is per topic)' });
    }
  }),
  flinkRest: z.strictObject({ url: httpUrl }).optional(),
  flinkDeployment: k8sRef.optional(),
  taskManagerDeployment: k8sRef.optional(),
});

/** The actuation section: the mode, each mode's own settings (act/registry.ts), the Kubernetes connection and the limits. */
const actuationSchema = z.strictObject({
  mode: z.enum(ACTUATION_MODES).default('recommend'),
  ...actuationSettingsShape,
  /** Without a kubeconfig, the in-cluster service account is used. */
  kubernetes: z.strictObject({
    kubeconfig: nonEmpty.optional(),
  }).prefault({}).transform((k) => ({ ...k, inCluster: k.kubeconfig === undefined })),
  /** The safety net in front of the actuator (src/act/actuation-gate.ts). */
  limits: z.strictObject({
    minSecondsBetweenRescales: nonNegative.default(60),
    maxRescalesPerHour: positiveInt.default(12),
    circuitBreakerFailures: positiveInt.default(3),
  }).prefault({}),
}).prefault({});

/** Leader election over one coordination.k8s.io Lease (src/act/kubernetes/leader-lease.ts). */
const leaderElectionSchema = z.strictObject({
  // A boolean, or "true"/"false" from PHOEBE_LEADER_ELECTION.
  enabled: z.union([z.boolean(), z.stringbool()]).default(false),
  leaseName: k8sObjectName.optional(),
  /** Default: the pod's namespace. */
  namespace: k8sNamespace.optional(),
  /** Default: host name + random suffix. */
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
  token: z.string().refine((t) => adminTokenProblem(t) === undefined, { message: ADMIN_TOKEN_RULE }).transform((t) => new Secret(t.trim())).optional(),
  tokenFile: nonEmpty.optional(),
}).superRefine((a, ctx) => {
  if (a.token !== undefined && a.tokenFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'give either token (or PHOEBE_ADMIN_TOKEN) or tokenFile, not both' });
  }
  if (a.enabled && a.token === undefined && a.tokenFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'is required when admin.enabled is true (or set PHOEBE_ADMIN_TOKEN)' });
  }
});

const queryOverrides = Object.fromEntries(QUERY_KEYS.map((key) => [key, nonEmpty.optional()])) as Record<QueryKey, z.ZodOptional<z.ZodString>>;

const listen = z.string().regex(LISTEN, 'must be host:port, e.g. 127.0.0.1:9464').refine((v) => {
  const port = Number(LISTEN.exec(v)?.[2]);
  return port >= 1 && port <= 65535;
}, { message: 'port must be 1..65535' });

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
    // After a rescale, the planner scales down only once this long has passed (scale-ups at once).
    scaleDownDwellSeconds: nonNegative.max(86_400).default(600),
  }).prefault({}),
  priors: z.strictObject({
    restartSeconds: nonNegative.default(30),
    /** Default: restartSeconds. */
    rescaleSeconds: nonNegative.optional(),
  }).prefault({}).transform((p) => ({ restartSeconds: p.restartSeconds, rescaleSeconds: p.rescaleSeconds ?? p.restartSeconds })),
  actuation: actuationSchema,
  queries: z.strictObject({
    rateWindow: z.string().regex(PROM_DURATION, 'must be a PromQL duration such as 1m or 90s').default(DEFAULT_RATE_WINDOW),
    latencyQuantile: z.number().gt(0).lt(1).default(DEFAULT_LATENCY_QUANTILE),
    ...queryOverrides,
  }).prefault({}),
  history: z.strictObject({
    backfillSeconds: positiveInt.default(6 * 3600),
    stepSeconds: positiveInt.default(1),
    carryForwardSeconds: z.number().int().nonnegative().default(30),
  }).prefault({}).superRefine((h, ctx) => {
    if (h.backfillSeconds < h.stepSeconds) ctx.addIssue({ code: 'custom', path: ['backfillSeconds'], message: `must be ≥ history.stepSeconds (${h.stepSeconds})` });
  }),
  exporter: z.strictObject({
    listen: listen.default('127.0.0.1:9464'),
  }).prefault({}).transform(({ listen: address }) => {
    const match = LISTEN.exec(address);
    return { listen: address, host: (match?.[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port: Number(match?.[2]) };
  }),
  leaderElection: leaderElectionSchema.prefault({}),
  admin: adminSchema.prefault({}),
}).superRefine((c, ctx) => {
  for (const issue of actuationIssues(c.actuation.mode, c.job, c.actuation)) ctx.addIssue({ code: 'custom', ...issue });
  if (c.decision.intervalSeconds < c.history.stepSeconds) {
    ctx.addIssue({ code: 'custom', path: ['decision', 'intervalSeconds'], message: `must be ≥ history.stepSeconds (${c.history.stepSeconds})` });
  }
}).transform(({ queries, ...c }) => ({ ...c, ...completeQueries(c.job, queries) }));

/** The PromQL of every signal: the user's where given, else the catalogue's; and which the user replaced. */
function completeQueries(job: z.output<typeof jobSchema>, given: Partial<Record<QueryKey, string>> & { rateWindow: string; latencyQuantile: number }) {
  const catalogue = defaultQueries({
    jobName: job.name,
    sourceTaskPattern: job.sourceTaskPattern,
    ...(job.kafka.topic !== undefined ? { topic: job.kafka.topic } : {}),
    ...(job.kafka.consumerGroup !== undefined ? { consumerGroup: job.kafka.consumerGroup } : {}),
    rateWindow: given.rateWindow,
    latencyQuantile: given.latencyQuantile,
  });
  const queries: Record<QueryKey, string> = { ...catalogue };
  const queryOverrides: QueryKey[] = [];
  for (const key of QUERY_KEYS) {
    const value = given[key];
    if (value !== undefined) {
      queries[key] = value;
      queryOverrides.push(key);
    }
  }
  return { queries: { ...queries, rateWindow: given.rateWindow, latencyQuantile: given.latencyQuantile }, queryOverrides };
}

/** The validated configuration with every default filled in. */
export type PhoebeConfig = {
  /** Where it came from, for messages. */
  source: string;
  /** Names of the environment variables that overrode a key. */
  envOverrides: string[];
} & z.output<typeof phoebeConfigSchema>;

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
  const config: PhoebeConfig = { source, envOverrides: applied.map((o) => o.name), ...parsed.data };
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
