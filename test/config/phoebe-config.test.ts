import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { formatEffectiveConfig } from '../../src/cli/validate-config.js';
import {
  ENV_OVERRIDES, loadPhoebeConfig, parsePhoebeConfig, redactedConfig, secretValues, type PhoebeConfig,
} from '../../src/config/phoebe-config.js';
import { Secret } from '../../src/util/secret.js';
import { defaultQueries, QUERY_KEYS } from '../../src/observe/promql-catalogue.js';
import { userError } from '../support/user-error.js';

const EXAMPLE = fileURLToPath(new URL('../../config/phoebe.example.yaml', import.meta.url));
const SRC = 'phoebe.yaml';

/** The smallest valid configuration: the required keys only. */
const MINIMAL = `prometheus:
  url: http://prometheus:9090
job:
  name: orders-enrichment
  checkpointIntervalSeconds: 60
slo:
  latencySeconds: 1.5
  recoveryTimeSeconds: 180
parallelism:
  max: 24
`;

const PASSWORD = 'pa55-Wörd-XYZZY-1';
const TOKEN = 'eyJtoken.SECRET.value-QWERTY';

function parse(text: string, env: NodeJS.ProcessEnv = {}): PhoebeConfig {
  return parsePhoebeConfig(text, SRC, env, { checkFiles: false });
}


function edit(from: string, to: string, text = MINIMAL): string {
  expect(text).toContain(from);
  return text.replace(from, to);
}

const tmp = mkdtempSync(join(tmpdir(), 'phoebe-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('phoebe configuration: defaults', () => {
  it('fills every default into a minimal file', () => {
    const c = parse(MINIMAL);
    expect(c.prometheus).toEqual({ url: 'http://prometheus:9090', timeoutSeconds: 10, tls: { insecureSkipVerify: false } });
    expect(c.job).toEqual({ name: 'orders-enrichment', checkpointIntervalSeconds: 60, sourceTaskPattern: 'Source:.*', kafka: {} });
    expect(c.slo).toEqual({ latencySeconds: 1.5, latencyObjective: 0.98, recoveryTimeSeconds: 180 });
    expect(c.parallelism).toEqual({ min: 1, max: 24 });
    expect(c.decision).toEqual({ intervalSeconds: 30, scaleDownDwellSeconds: 600 });
    expect(c.priors).toEqual({ restartSeconds: 30, rescaleSeconds: 30 });
    expect(c.actuation.mode).toBe('recommend');
    expect(c.actuation.flinkRest).toBeUndefined();
    expect(c.actuation.flinkDeployment).toEqual({ timeoutSeconds: 600 });
    expect(c.actuation.taskManagerDeployment).toEqual({ slotsPerTaskManager: 1, timeoutSeconds: 600 });
    expect(c.actuation.kubernetes).toEqual({ inCluster: true });
    expect(c.history).toEqual({ backfillSeconds: 21600, stepSeconds: 1, carryForwardSeconds: 30 });
    expect(c.exporter).toEqual({ listen: '127.0.0.1:9464', host: '127.0.0.1', port: 9464 });
    expect(c.envOverrides).toEqual([]);
    expect(c.queryOverrides).toEqual([]);
  });

  it('never listens on all interfaces by default', () => {
    expect(parse(MINIMAL).exporter.host).toBe('127.0.0.1');
  });

  it('takes every query from the catalogue unless the file replaces it', () => {
    const catalogue = defaultQueries({ jobName: 'orders-enrichment', sourceTaskPattern: 'Source:.*', rateWindow: '1m', latencyQuantile: 0.99 });
    const c = parse(MINIMAL);
    for (const key of QUERY_KEYS) expect(c.queries[key]).toBe(catalogue[key]);
    const replaced = parse(`${MINIMAL}queries:\n  lag: sum(my_lag)\n  rateWindow: 2m\n`);
    expect(replaced.queries.lag).toBe('sum(my_lag)');
    expect(replaced.queryOverrides).toEqual(['lag']);
    expect(replaced.queries.arrivalRate).toContain('[2m]');
  });

  it('builds the default queries from the Kafka topic and consumer group', () => {
    const c = parse(edit('  checkpointIntervalSeconds: 60\n', '  checkpointIntervalSeconds: 60\n  kafka: { topic: orders, consumerGroup: enrich }\n'));
    expect(c.queries.arrivalRate).toContain('kafka_topic_partition_current_offset{topic="orders"}');
    expect(c.queries.lag).toContain('kafka_consumergroup_lag{consumergroup="enrich",topic="orders"}');
  });

  it('loads the example file, which documents every environment variable', () => {
    const c = loadPhoebeConfig(EXAMPLE, {});
    expect(c.job.name).toBe('orders-enrichment');
    expect(c.actuation.mode).toBe('recommend');
    expect(c.exporter.listen).toBe('127.0.0.1:9464');
    const text = inspect(c);
    expect(text).toContain('orders-enrichment');
    const example = readFileSync(EXAMPLE, 'utf8');
    for (const o of ENV_OVERRIDES) expect(example).toContain(o.name);
  });

  it('resolves a kubeconfig and the mode-specific settings', () => {
    const c = parse(`${MINIMAL.replace('  checkpointIntervalSeconds: 60\n', '  checkpointIntervalSeconds: 60\n  flinkRest: { url: "http://jm:8081" }\n')}actuation:
  mode: flink-rest
  flinkRest: { jarName: job.jar, programArgs: [--a, b] }
  kubernetes: { kubeconfig: /home/me/.kube/config }
`);
    // The rescale journal defaults to <OS temp dir>/phoebe (a mounted volume in Kubernetes).
    expect(c.actuation.flinkRest).toEqual({ jarName: 'job.jar', programArgs: ['--a', 'b'], savepointTimeoutSeconds: 600, stateDirectory: join(tmpdir(), 'phoebe') });
    expect(c.actuation.kubernetes).toEqual({ kubeconfig: '/home/me/.kube/config', inCluster: false });
    expect(c.job.flinkRest).toEqual({ url: 'http://jm:8081' });
  });
});

describe('phoebe configuration: every error names its key', () => {
  const missing: Array<[string, string]> = [
    ['  url: http://prometheus:9090\n', 'missing key "prometheus.url"'],
    ['  name: orders-enrichment\n', 'missing key "job.name"'],
    ['  checkpointIntervalSeconds: 60\n', 'missing key "job.checkpointIntervalSeconds"'],
    ['  latencySeconds: 1.5\n', 'missing key "slo.latencySeconds"'],
    ['  recoveryTimeSeconds: 180\n', 'missing key "slo.recoveryTimeSeconds"'],
    ['  max: 24\n', 'missing key "parallelism.max"'],
  ];
  it.each(missing)('without %j: %s', (line, message) => {
    expect(userError(() => parse(edit(line, '')))).toContain(`${SRC}: ${message}`);
  });

  it('names a missing section', () => {
    expect(userError(() => parse(MINIMAL.replace(/slo:\n(  .*\n)+/, '')))).toContain('missing key "slo"');
  });

  const wrong: Array<[string, string, string]> = [
    ['  url: http://prometheus:9090\n', '  url: prometheus:9090\n', '"prometheus.url": must be an http:// or https:// URL'],
    ['  url: http://prometheus:9090\n', '  url: http://prometheus:9090\n  timeoutSeconds: -1\n', '"prometheus.timeoutSeconds"'],
    ['  url: http://prometheus:9090\n', '  url: http://prometheus:9090\n  tls: { insecureSkipVerify: "yes" }\n', '"prometheus.tls.insecureSkipVerify"'],
    ['  name: orders-enrichment\n', '  name: ""\n', '"job.name"'],
    ['  name: orders-enrichment\n', '  name: x\n  id: nope\n', '"job.id": must be a Flink job id'],
    ['  name: orders-enrichment\n', '  name: x\n  sourceTaskPattern: "Source(["\n', '"job.sourceTaskPattern": must be a regular expression'],
    ['  name: orders-enrichment\n', '  name: x\n  kafka: { consumerGroup: g }\n', '"job.kafka.topic": is needed with consumerGroup'],
    ['  name: orders-enrichment\n', '  name: x\n  flinkDeployment: { namespace: Flink, name: job }\n', '"job.flinkDeployment.namespace"'],
    ['  latencySeconds: 1.5\n', '  latencySeconds: fast\n', '"slo.latencySeconds": Invalid input: expected number'],
    ['  latencySeconds: 1.5\n', '  latencySeconds: 1.5\n  latencyObjective: 1.2\n', '"slo.latencyObjective"'],
    ['  max: 24\n', '  max: 2\n  min: 4\n', '"parallelism.max": must be ≥ parallelism.min (4)'],
    ['  max: 24\n', '  max: 2.5\n', '"parallelism.max"'],
  ];
  it.each(wrong)('%j → %j names %s', (from, to, message) => {
    expect(userError(() => parse(edit(from, to)))).toContain(message);
  });

  const appended: Array<[string, string]> = [
    ['decision: { intervalSeconds: 0 }\n', '"decision.intervalSeconds"'],
    ['priors: { restartSeconds: -3 }\n', '"priors.restartSeconds"'],
    ['actuation: { mode: yolo }\n', '"actuation.mode": Invalid option'],
    ['actuation: { mode: flink-rest, flinkRest: { jarName: a.jar } }\n', '"job.flinkRest.url": is required when actuation.mode is flink-rest'],
    ['actuation: { mode: flink-rest }\n', '"actuation.flinkRest": is required when actuation.mode is flink-rest'],
    ['actuation: { flinkRest: { jarName: a.jar, jarId: x } }\n', '"actuation.flinkRest.jarId": give exactly one of jarId and jarName'],
    ['actuation: { flinkRest: { programArgs: "--a" } }\n', '"actuation.flinkRest.programArgs"'],
    ['actuation: { mode: flink-deployment }\n', '"job.flinkDeployment": is required when actuation.mode is flink-deployment'],
    ['actuation: { mode: taskmanager-deployment }\n', '"job.taskManagerDeployment": is required when actuation.mode is taskmanager-deployment'],
    ['actuation: { taskManagerDeployment: { slotsPerTaskManager: 0 } }\n', '"actuation.taskManagerDeployment.slotsPerTaskManager"'],
    ['actuation: { flinkDeployment: { timeoutSeconds: 0 } }\n', '"actuation.flinkDeployment.timeoutSeconds"'],
    // Removed: nothing read it (the FlinkDeployment actuator sets spec.job.parallelism).
    ['actuation: { flinkDeployment: { perVertexOverride: false } }\n', 'unknown key "actuation.flinkDeployment.perVertexOverride"'],
    ['queries: { rateWindow: 60 }\n', '"queries.rateWindow"'],
    ['queries: { rateWindow: 1 minute }\n', '"queries.rateWindow": must be a PromQL duration'],
    ['queries: { lag: "" }\n', '"queries.lag"'],
    ['history: { stepSeconds: 0.5 }\n', '"history.stepSeconds"'],
    ['history: { backfillSeconds: 10, stepSeconds: 15 }\n', '"history.backfillSeconds": must be ≥ history.stepSeconds (15)'],
    ['history: { stepSeconds: 60 }\n', '"decision.intervalSeconds": must be ≥ history.stepSeconds (60)'],
    ['exporter: { listen: 9464 }\n', '"exporter.listen"'],
    ['exporter: { listen: "localhost" }\n', '"exporter.listen": must be host:port'],
    ['exporter: { listen: "127.0.0.1:70000" }\n', '"exporter.listen": port must be 1..65535'],
  ];
  it.each(appended)('%j names %s', (extra, message) => {
    expect(userError(() => parse(`${MINIMAL}${extra}`))).toContain(message);
  });

  it('names unknown keys, nested ones by their full path', () => {
    expect(userError(() => parse(`${MINIMAL}colour: blue\n`))).toContain('unknown key "colour"');
    expect(userError(() => parse(edit('  max: 24\n', '  max: 24\n  maximum: 30\n')))).toContain('unknown key "parallelism.maximum"');
    expect(userError(() => parse(`${MINIMAL}queries: { busyTime: x }\n`))).toContain('unknown key "queries.busyTime"');
  });

  it('reports every problem at once, one line each', () => {
    const message = userError(() => parse(`prometheus: { url: ftp://x }\njob: { name: j }\nslo: { latencySeconds: 1 }\nparallelism: { max: 0 }\nextra: 1\n`));
    const lines = message.split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) expect(line.startsWith(`${SRC}: `)).toBe(true);
  });

  it('rejects a document that is not a mapping, and bad YAML with its position only', () => {
    expect(userError(() => parse('- a\n- b\n'))).toContain('expected a mapping');
    const message = userError(() => parse(`${MINIMAL}prometheus: { password: "${PASSWORD}"\n`));
    expect(message).toMatch(/^phoebe\.yaml:\d+:\d+: invalid YAML \(\w+\)$/);
    expect(message).not.toContain(PASSWORD);
  });

  it('names an unreadable file', () => {
    expect(userError(() => loadPhoebeConfig(join(tmp, 'nope.yaml'), {}))).toContain(`cannot read config ${join(tmp, 'nope.yaml')}: ENOENT`);
  });

  it('names the key of a file it cannot read', () => {
    const text = edit('  url: http://prometheus:9090\n', `  url: https://prometheus:9090\n  tls: { caFile: ${join(tmp, 'ca.pem')} }\n  bearerTokenFile: ${join(tmp, 'token')}\n`);
    const message = userError(() => parsePhoebeConfig(text, SRC, {}));
    expect(message).toContain('"prometheus.tls.caFile": cannot read');
    expect(message).toContain('"prometheus.bearerTokenFile": cannot read');
    writeFileSync(join(tmp, 'ca.pem'), 'x');
    writeFileSync(join(tmp, 'token'), TOKEN);
    expect(parsePhoebeConfig(text, SRC, {}).prometheus.bearerTokenFile).toBe(join(tmp, 'token'));
  });
});

describe('phoebe configuration: environment overrides', () => {
  it('overrides addresses and secrets, creating sections as needed', () => {
    const c = parse(MINIMAL.replace('prometheus:\n  url: http://prometheus:9090\n', ''), {
      PHOEBE_PROMETHEUS_URL: 'https://prom.example:9443/prom',
      PHOEBE_PROMETHEUS_BEARER_TOKEN: TOKEN,
      PHOEBE_FLINK_REST_URL: 'http://jm:8081',
      PHOEBE_LISTEN: '0.0.0.0:9999',
      PHOEBE_KUBECONFIG: '/kube/config',
    });
    expect(c.prometheus.url).toBe('https://prom.example:9443/prom');
    expect(c.prometheus.bearerToken).toBeInstanceOf(Secret);
    expect(c.prometheus.bearerToken?.reveal()).toBe(TOKEN);
    expect(c.job.flinkRest?.url).toBe('http://jm:8081');
    expect(c.exporter).toEqual({ listen: '0.0.0.0:9999', host: '0.0.0.0', port: 9999 });
    expect(c.actuation.kubernetes).toEqual({ kubeconfig: '/kube/config', inCluster: false });
    expect(c.envOverrides.sort()).toEqual(['PHOEBE_FLINK_REST_URL', 'PHOEBE_KUBECONFIG', 'PHOEBE_LISTEN', 'PHOEBE_PROMETHEUS_BEARER_TOKEN', 'PHOEBE_PROMETHEUS_URL']);
  });

  it('wins over the file, and a secret from the environment replaces the file key', () => {
    const text = edit('  url: http://prometheus:9090\n', '  url: http://prometheus:9090\n  basicAuth: { username: me, passwordFile: /nope }\n');
    const c = parse(text, { PHOEBE_PROMETHEUS_URL: 'http://other:9090', PHOEBE_PROMETHEUS_PASSWORD: PASSWORD, PHOEBE_PROMETHEUS_USERNAME: 'phoebe' });
    expect(c.prometheus.url).toBe('http://other:9090');
    expect(c.prometheus.basicAuth?.username).toBe('phoebe');
    expect(c.prometheus.basicAuth?.password?.reveal()).toBe(PASSWORD);
    expect(c.prometheus.basicAuth?.passwordFile).toBeUndefined();
    const t = parse(`${MINIMAL.replace('  url: http://prometheus:9090\n', '  url: http://prometheus:9090\n  bearerTokenFile: /nope\n')}`, { PHOEBE_PROMETHEUS_BEARER_TOKEN: TOKEN });
    expect(t.prometheus.bearerTokenFile).toBeUndefined();
    expect(t.prometheus.bearerToken?.reveal()).toBe(TOKEN);
  });

  it('ignores empty variables', () => {
    expect(parse(MINIMAL, { PHOEBE_PROMETHEUS_URL: '', PHOEBE_LISTEN: '' }).prometheus.url).toBe('http://prometheus:9090');
  });

  it('says which variable a bad value came from', () => {
    expect(userError(() => parse(MINIMAL, { PHOEBE_LISTEN: 'everywhere' }))).toContain('"exporter.listen": must be host:port, e.g. 127.0.0.1:9464 (value from PHOEBE_LISTEN)');
  });
});

describe('phoebe configuration: secrets never show', () => {
  const withSecrets = edit('  url: http://prometheus:9090\n', `  url: http://prometheus:9090\n  basicAuth: { username: me, password: "${PASSWORD}" }\n`);

  it('keeps secrets in Secret, which prints as <redacted>', () => {
    const c = parse(withSecrets);
    for (const text of [JSON.stringify(c), inspect(c, { depth: 10 }), String(c.prometheus.basicAuth?.password), `${c.prometheus.basicAuth?.password}`]) {
      expect(text).not.toContain(PASSWORD);
    }
    expect(JSON.stringify(redactedConfig(c))).toContain('<redacted>');
    expect(secretValues(c)).toEqual([PASSWORD]);
  });

  it('redacts them in the effective configuration, YAML and JSON', () => {
    const c = parse(edit('  url: http://prometheus:9090\n', '  url: http://prometheus:9090\n  bearerTokenFile: /t\n'), { PHOEBE_PROMETHEUS_BEARER_TOKEN: TOKEN });
    for (const format of ['yaml', 'json'] as const) {
      const out = formatEffectiveConfig(c, format);
      expect(out).not.toContain(TOKEN);
      expect(out).toContain('<redacted>');
    }
    const p = parse(withSecrets);
    expect(formatEffectiveConfig(p, 'yaml')).not.toContain(PASSWORD);
    expect(formatEffectiveConfig(p, 'yaml')).toMatch(/password: <redacted>/);
  });

  const failing: Array<[string, NodeJS.ProcessEnv]> = [
    [`${withSecrets}extra: { token: "${TOKEN}" }\n`, {}],
    [withSecrets.replace('  max: 24\n', ''), { PHOEBE_PROMETHEUS_BEARER_TOKEN: TOKEN }],
    [withSecrets.replace(`password: "${PASSWORD}"`, `password: "${PASSWORD}", passwordFile: /x`), {}],
    [withSecrets.replace('url: http://prometheus:9090', `url: "http://me:${PASSWORD}@prometheus:9090"`), {}],
    [MINIMAL, { PHOEBE_PROMETHEUS_URL: `http://me:${PASSWORD}@prometheus:9090` }],
    [MINIMAL, { PHOEBE_PROMETHEUS_PASSWORD: PASSWORD }],
    [withSecrets.replace(`password: "${PASSWORD}"`, 'password: 12345678901'), {}],
    [`${withSecrets}  bearerToken: "${TOKEN}"\n`, {}],
    [`${MINIMAL}prometheus2: { bearerToken: "${TOKEN}" }\n`, {}],
    [withSecrets.replace('username: me', `username: ["${PASSWORD}"]`), {}],
  ];
  it.each(failing.map((f, i) => [i, ...f] as const))('error %i mentions no secret', (_i, text, env) => {
    const message = userError(() => parse(text, env));
    expect(message).not.toContain(PASSWORD);
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain('12345678901');
  });
});

describe('phoebe validate-config', () => {
  const writes: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    writes.length = 0;
  });
  function capture(): void {
    const record = (chunk: unknown) => { writes.push(String(chunk)); return true; };
    vi.spyOn(process.stdout, 'write').mockImplementation(record);
    vi.spyOn(process.stderr, 'write').mockImplementation(record);
  }

  it('prints the effective configuration with secrets redacted and exits 0', async () => {
    const file = join(tmp, 'ok.yaml');
    writeFileSync(file, edit('  url: http://prometheus:9090\n', `  url: http://prometheus:9090\n  basicAuth: { username: me, password: "${PASSWORD}" }\n`));
    vi.stubEnv('PHOEBE_PROMETHEUS_URL', 'http://from-env:9090');
    capture();
    const code = await main(['validate-config', '--config', file]);
    vi.unstubAllEnvs();
    const out = writes.join('');
    expect(code).toBe(0);
    expect(out).toContain(`# ${file}: valid`);
    expect(out).toContain('# environment overrides: PHOEBE_PROMETHEUS_URL');
    expect(out).toContain('url: http://from-env:9090');
    expect(out).toContain('password: <redacted>');
    expect(out).toContain('arrivalRate: ');
    expect(out).not.toContain(PASSWORD);
  });

  it('exits 2 naming the key, without the secret', async () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, `${edit('  max: 24\n', '  max: many\n')}`.replace('  url: http://prometheus:9090\n', `  url: http://prometheus:9090\n  bearerToken: "${TOKEN}"\n`));
    capture();
    const code = await main(['validate-config', '--config', file]);
    const out = writes.join('');
    expect(code).toBe(2);
    expect(out).toContain(`phoebe: ${file}: "parallelism.max": Invalid input: expected number`);
    expect(out).not.toContain(TOKEN);
  });

  it('validates the example file', async () => {
    capture();
    expect(await main(['validate-config', '--config', EXAMPLE])).toBe(0);
    expect(writes.join('')).toContain('mode: recommend');
  });
});
