import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { ACTUATION_MODES, parsePhoebeConfig } from '../../../src/config/phoebe-config.js';
import { helmBinary } from '../../setup/helm.js';

// The chart rendered offline by `helm template` (no cluster), each document parsed with `yaml`.

const CHART = 'charts/phoebe';
const RELEASE = 'obs';
const NAMESPACE = 'monitoring';
const FULLNAME = 'obs-phoebe';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed Kubernetes manifests
type Obj = Record<string, any>;
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

let scratch: string;
let helm: string;

beforeAll(() => {
  helm = helmBinary();
  scratch = mkdtempSync(join(tmpdir(), 'phoebe-chart-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(helm, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KUBECONFIG: join(scratch, 'no-kubeconfig'), HELM_CACHE_HOME: join(scratch, 'cache'), HELM_CONFIG_HOME: join(scratch, 'config'), HELM_DATA_HOME: join(scratch, 'data') } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let files = 0;
function valuesFile(values: Obj): string {
  const path = join(scratch, `values-${files++}.yaml`);
  writeFileSync(path, stringify(values));
  return path;
}

function template(values: Obj = {}, extra: string[] = []): { status: number | null; stdout: string; stderr: string } {
  return run(['template', RELEASE, CHART, '--namespace', NAMESPACE, '-f', valuesFile(values), ...extra]);
}

/** Renders and parses every document; fails the test on a helm error. */
function render(values: Obj = {}): Obj[] {
  const r = template(values);
  expect(r.stderr, 'helm template stderr').toBe('');
  expect(r.status).toBe(0);
  return parseAllDocuments(r.stdout).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Obj | null;
  }).filter((d): d is Obj => d !== null);
}

const ofKind = (docs: Obj[], kind: string): Obj[] => docs.filter((d) => d.kind === kind);
function one(docs: Obj[], kind: string): Obj {
  const found = ofKind(docs, kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Obj;
}

const FLINK_DEPLOYMENT = { namespace: 'flink', name: 'orders-enrichment' };
const TM_DEPLOYMENT = { namespace: 'flink-tm', name: 'orders-enrichment-taskmanager' };

/** The config values of a mode, with what the mode needs. */
function modeValues(mode: string, more: Obj = {}): Obj {
  const job: Obj = { name: 'orders-enrichment', checkpointIntervalSeconds: 60 };
  const actuation: Obj = { mode };
  if (mode === 'flink-rest') {
    job.flinkRest = { url: 'http://orders-enrichment-rest.flink.svc:8081' };
    actuation.flinkRest = { jarName: 'orders-enrichment-1.4.2.jar' };
  }
  if (mode === 'flink-deployment') job.flinkDeployment = FLINK_DEPLOYMENT;
  if (mode === 'taskmanager-deployment') job.taskManagerDeployment = TM_DEPLOYMENT;
  return { config: { job, actuation }, ...more };
}

const EVENTS: Rule[] = [
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
];
const LEASE: Rule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [`${FULLNAME}-leader`], verbs: ['get', 'update'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
];

/** Each Role by name: its namespace and rules; and that a RoleBinding binds it to the ServiceAccount. */
function roles(docs: Obj[]): Record<string, { namespace: string; rules: Rule[] }> {
  const out: Record<string, { namespace: string; rules: Rule[] }> = {};
  for (const role of ofKind(docs, 'Role')) {
    out[role.metadata.name as string] = { namespace: role.metadata.namespace as string, rules: role.rules as Rule[] };
    const binding = ofKind(docs, 'RoleBinding').find((b) => b.metadata.name === role.metadata.name);
    expect(binding, `RoleBinding for ${role.metadata.name}`).toBeDefined();
    expect(binding?.metadata.namespace).toBe(role.metadata.namespace);
    expect(binding?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: FULLNAME, namespace: NAMESPACE }]);
  }
  expect(ofKind(docs, 'RoleBinding')).toHaveLength(Object.keys(out).length);
  return out;
}

/** Nothing cluster-wide, no wildcard, no Secret anywhere, no Secret object rendered. */
function expectNoBroadAccess(docs: Obj[]): void {
  for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'Secret']) expect(ofKind(docs, kind), kind).toEqual([]);
  for (const role of ofKind(docs, 'Role')) {
    for (const rule of role.rules as Rule[]) {
      expect(rule.resources.some((r) => r === '*' || r.startsWith('secrets'))).toBe(false);
      expect(rule.verbs).not.toContain('*');
      expect(rule.apiGroups).not.toContain('*');
      for (const verb of ['delete', 'deletecollection', 'escalate', 'bind', 'impersonate']) expect(rule.verbs).not.toContain(verb);
    }
  }
}

describe('helm lint', () => {
  it('is clean with the default values, also --strict', () => {
    for (const args of [['lint', CHART], ['lint', '--strict', CHART]]) {
      const r = run(args);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('0 chart(s) failed');
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('is clean --strict in every actuation mode, with leader election and every optional object', () => {
    for (const mode of ACTUATION_MODES) {
      const values = modeValues(mode, {
        leaderElection: { enabled: true }, replicaCount: 2,
        serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, dashboards: { enabled: true },
      });
      const r = run(['lint', '--strict', CHART, '-f', valuesFile(values)]);
      expect(r.status, `${mode}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });
});

describe('RBAC per actuation mode', () => {
  it('recommend: no Role at all, no service-account token', () => {
    const docs = render(modeValues('recommend'));
    expect(ofKind(docs, 'Role')).toEqual([]);
    expect(ofKind(docs, 'RoleBinding')).toEqual([]);
    expectNoBroadAccess(docs);
    expect(one(docs, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(one(docs, 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('recommend with leader election: only the one Lease (get/update by name) and create on leases', () => {
    const docs = render(modeValues('recommend', { leaderElection: { enabled: true } }));
    expect(roles(docs)).toEqual({ [`${FULLNAME}-leader-election`]: { namespace: NAMESPACE, rules: LEASE } });
    expectNoBroadAccess(docs);
    const deployment = one(docs, 'Deployment');
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(true);
    const env = deployment.spec.template.spec.containers[0].env as Obj[];
    expect(env.find((e) => e.name === 'PHOEBE_LEASE_NAME')?.value).toBe(`${FULLNAME}-leader`);
  });

  it('leader election with a named lease restricts get/update to that name', () => {
    const docs = render(modeValues('recommend', { leaderElection: { enabled: true, leaseName: 'phoebe-orders' } }));
    expect(roles(docs)[`${FULLNAME}-leader-election`]?.rules[0]?.resourceNames).toEqual(['phoebe-orders']);
  });

  it('flink-rest: no Role and no token, unless a FlinkDeployment is named to carry the Events', () => {
    const docs = render(modeValues('flink-rest'));
    expect(ofKind(docs, 'Role')).toEqual([]);
    expect(ofKind(docs, 'RoleBinding')).toEqual([]);
    expect(one(docs, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(false);
    expectNoBroadAccess(docs);
  });

  it('flink-rest with config.job.flinkDeployment: events only, in its namespace', () => {
    const values = modeValues('flink-rest');
    values.config.job.flinkDeployment = FLINK_DEPLOYMENT;
    const docs = render(values);
    expect(roles(docs)).toEqual({ [`${FULLNAME}-actuation`]: { namespace: FLINK_DEPLOYMENT.namespace, rules: EVENTS } });
    expect(one(docs, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(true);
    expectNoBroadAccess(docs);
    // Without the events rule there is nothing left to grant; phoebe still builds its client.
    const noEvents = render({ ...values, rbac: { events: false } });
    expect(ofKind(noEvents, 'Role')).toEqual([]);
    expect(one(noEvents, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(true);
  });

  it('the Kubernetes modes keep their target rules without events', () => {
    const docs = render(modeValues('taskmanager-deployment', { rbac: { events: false } }));
    expect(roles(docs)[`${FULLNAME}-actuation`]?.rules).toEqual([
      { apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: [TM_DEPLOYMENT.name], verbs: ['get', 'update', 'patch'] },
    ]);
  });

  it('serviceAccount.automountToken forces the token either way', () => {
    expect(one(render({ serviceAccount: { automountToken: true } }), 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(true);
    expect(one(render(modeValues('flink-deployment', { serviceAccount: { automountToken: false } })), 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it('flink-deployment: the one FlinkDeployment (get/list/watch/patch) and events, in its namespace', () => {
    const docs = render(modeValues('flink-deployment'));
    expect(roles(docs)).toEqual({
      [`${FULLNAME}-actuation`]: {
        namespace: FLINK_DEPLOYMENT.namespace,
        rules: [
          { apiGroups: ['flink.apache.org'], resources: ['flinkdeployments'], resourceNames: [FLINK_DEPLOYMENT.name], verbs: ['get', 'list', 'watch', 'patch'] },
          ...EVENTS,
        ],
      },
    });
    expectNoBroadAccess(docs);
    expect(one(docs, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(true);
  });

  it('taskmanager-deployment: the one Deployment scale subresource (get/update/patch) and events, in its namespace', () => {
    const docs = render(modeValues('taskmanager-deployment'));
    expect(roles(docs)).toEqual({
      [`${FULLNAME}-actuation`]: {
        namespace: TM_DEPLOYMENT.namespace,
        rules: [
          { apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: [TM_DEPLOYMENT.name], verbs: ['get', 'update', 'patch'] },
          ...EVENTS,
        ],
      },
    });
    expectNoBroadAccess(docs);
  });

  it('acting mode with leader election: both Roles, nothing more', () => {
    const docs = render(modeValues('flink-deployment', { leaderElection: { enabled: true }, replicaCount: 2 }));
    const all = roles(docs);
    expect(Object.keys(all).sort()).toEqual([`${FULLNAME}-actuation`, `${FULLNAME}-leader-election`]);
    expect(all[`${FULLNAME}-leader-election`]).toEqual({ namespace: NAMESPACE, rules: LEASE });
    expect(one(docs, 'Deployment').spec.strategy.type).toBe('RollingUpdate');
    expectNoBroadAccess(docs);
  });

  it('rbac.create false: no Role in any mode', () => {
    for (const mode of ACTUATION_MODES) {
      const docs = render(modeValues(mode, { rbac: { create: false }, leaderElection: { enabled: true }, replicaCount: 1 }));
      expect(ofKind(docs, 'Role'), mode).toEqual([]);
      expect(ofKind(docs, 'RoleBinding'), mode).toEqual([]);
    }
  });

  it('refuses an acting mode without its target, and several acting replicas without leader election', () => {
    for (const [mode, key] of [['flink-deployment', 'config.job.flinkDeployment'], ['taskmanager-deployment', 'config.job.taskManagerDeployment']] as const) {
      const r = template({ config: { actuation: { mode } } });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(key);
    }
    const r = template(modeValues('flink-rest', { replicaCount: 2 }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('leaderElection.enabled');
    expect(render(modeValues('recommend', { replicaCount: 2 }))).not.toHaveLength(0);
  });
});

describe('the Deployment', () => {
  it('runs phoebe hardened, with probes, resources, /tmp and the config mounted', () => {
    const docs = render();
    const deployment = one(docs, 'Deployment');
    expect(deployment.metadata.namespace).toBe(NAMESPACE);
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe('Recreate');
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).toBe(FULLNAME);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    expect(c.command).toEqual(['node', 'dist/src/cli/bin.js', 'run', '--config', '/etc/phoebe/phoebe.yaml']);
    expect(c.image).toBe('phoebe:0.1.0');
    expect(c.securityContext).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http-metrics' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(c.resources.requests).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
    expect(c.resources.limits).toMatchObject({ memory: expect.anything() });
    expect(c.ports).toEqual([{ name: 'http-metrics', containerPort: 9464, protocol: 'TCP' }]);
    expect(c.env).toEqual([{ name: 'PHOEBE_LISTEN', value: '0.0.0.0:9464' }]);
    expect(c.volumeMounts).toEqual([
      { name: 'config', mountPath: '/etc/phoebe', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(pod.volumes).toEqual([
      { name: 'config', configMap: { name: FULLNAME } },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ]);
    expect(deployment.spec.template.metadata.annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the Service targets the metrics port and the pod listens on it on all interfaces', () => {
    const docs = render({ exporter: { port: 9100 }, service: { port: 8080 } });
    const service = one(docs, 'Service');
    expect(service.metadata.name).toBe(FULLNAME);
    expect(service.spec.ports).toEqual([{ name: 'http-metrics', port: 8080, targetPort: 'http-metrics', protocol: 'TCP' }]);
    expect(service.spec.selector).toEqual(one(docs, 'Deployment').spec.selector.matchLabels);
    const c = one(docs, 'Deployment').spec.template.spec.containers[0];
    expect(c.ports[0].containerPort).toBe(9100);
    expect(c.env).toContainEqual({ name: 'PHOEBE_LISTEN', value: '0.0.0.0:9100' });
  });

  it('takes credentials only by Secret reference, into phoebe\'s environment overrides', () => {
    const docs = render({ existingSecret: { name: 'prom-creds', prometheusUsernameKey: 'user', prometheusPasswordKey: 'pass' } });
    const env = one(docs, 'Deployment').spec.template.spec.containers[0].env as Obj[];
    expect(env).toContainEqual({ name: 'PHOEBE_PROMETHEUS_USERNAME', valueFrom: { secretKeyRef: { name: 'prom-creds', key: 'user' } } });
    expect(env).toContainEqual({ name: 'PHOEBE_PROMETHEUS_PASSWORD', valueFrom: { secretKeyRef: { name: 'prom-creds', key: 'pass' } } });
    expect(env.find((e) => e.name === 'PHOEBE_PROMETHEUS_BEARER_TOKEN')).toBeUndefined();
    const token = render({ existingSecret: { name: 'prom-token', prometheusBearerTokenKey: 'token' } });
    expect(one(token, 'Deployment').spec.template.spec.containers[0].env).toContainEqual(
      { name: 'PHOEBE_PROMETHEUS_BEARER_TOKEN', valueFrom: { secretKeyRef: { name: 'prom-token', key: 'token' } } },
    );
    expectNoBroadAccess(docs);
    const r = template({ existingSecret: { name: 'prom-token' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('existingSecret');
  });
});

describe('the ConfigMap', () => {
  it('holds a phoebe.yaml with the mode that phoebe itself accepts, in every mode', () => {
    for (const mode of ACTUATION_MODES) {
      const docs = render(modeValues(mode));
      const configMap = one(docs, 'ConfigMap');
      expect(configMap.metadata.name).toBe(FULLNAME);
      const text = configMap.data['phoebe.yaml'] as string;
      const raw = parse(text) as Obj;
      expect(raw.actuation.mode).toBe(mode);
      expect(raw.exporter).toBeUndefined();
      const env = Object.fromEntries((one(docs, 'Deployment').spec.template.spec.containers[0].env as Obj[]).filter((e) => 'value' in e).map((e) => [e.name, e.value]));
      const config = parsePhoebeConfig(text, 'phoebe.yaml', env, { checkFiles: false });
      expect(config.actuation.mode).toBe(mode);
      expect(config.exporter).toMatchObject({ host: '0.0.0.0', port: 9464 });
      if (mode === 'flink-deployment') expect(config.job.flinkDeployment).toEqual(FLINK_DEPLOYMENT);
    }
  });
});

describe('leader election and the admin API', () => {
  it('switch on phoebe\'s own leaderElection for the Lease the Role names, and pass the admin token by Secret reference', () => {
    const values = modeValues('flink-deployment', {
      replicaCount: 2, leaderElection: { enabled: true },
      existingSecret: { name: 'phoebe-admin', adminTokenKey: 'token' },
    });
    values.config.leaderElection = { leaseDurationSeconds: 20, renewEverySeconds: 4 };
    values.config.admin = { enabled: true };
    values.config.actuation.limits = { minSecondsBetweenRescales: 120, maxRescalesPerHour: 6, circuitBreakerFailures: 2 };
    const docs = render(values);
    const env = one(docs, 'Deployment').spec.template.spec.containers[0].env as Obj[];
    expect(env).toContainEqual({ name: 'PHOEBE_ADMIN_TOKEN', valueFrom: { secretKeyRef: { name: 'phoebe-admin', key: 'token' } } });
    expect(env).toContainEqual({ name: 'PHOEBE_LEADER_ELECTION', value: 'true' });
    expect(env).toContainEqual({ name: 'PHOEBE_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect(env).toContainEqual({ name: 'PHOEBE_LEASE_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    // What phoebe makes of the ConfigMap and the environment (field references resolved as the kubelet would).
    const plain = Object.fromEntries(env.filter((e) => 'value' in e).map((e) => [e.name, e.value]));
    const config = parsePhoebeConfig(one(docs, 'ConfigMap').data['phoebe.yaml'] as string, 'phoebe.yaml', {
      ...plain, PHOEBE_LEASE_NAMESPACE: NAMESPACE, PHOEBE_POD_NAME: `${FULLNAME}-abc12`, PHOEBE_ADMIN_TOKEN: 'a-token-of-32-characters-0123456',
    }, { checkFiles: false });
    expect(config.leaderElection).toEqual({
      enabled: true, leaseName: `${FULLNAME}-leader`, namespace: NAMESPACE, identity: `${FULLNAME}-abc12`, leaseDurationSeconds: 20, renewEverySeconds: 4,
    });
    expect(roles(docs)[`${FULLNAME}-leader-election`]?.rules[0]?.resourceNames).toEqual([config.leaderElection.leaseName]);
    expect(config.admin.enabled).toBe(true);
    expect(config.actuation.limits).toEqual({ minSecondsBetweenRescales: 120, maxRescalesPerHour: 6, circuitBreakerFailures: 2 });
  });

  it('refuses the admin API without a token source, and an inline token in values', () => {
    const missing = template(modeValues('recommend', { config: { admin: { enabled: true } } }));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('config.admin.enabled needs its token');
    const inline = template(modeValues('recommend', { config: { admin: { enabled: true, token: 'inline-token-0123456789' } } }));
    expect(inline.status).not.toBe(0);
    expect(inline.stderr).toContain('token');
    expect(template(modeValues('recommend', { config: { admin: { enabled: true, tokenFile: '/var/run/secrets/phoebe/token' } } })).status).toBe(0);
  });
});

describe('Prometheus Operator and Grafana objects', () => {
  it('are absent by default', () => {
    const docs = render();
    expect(ofKind(docs, 'ServiceMonitor')).toEqual([]);
    expect(ofKind(docs, 'PrometheusRule')).toEqual([]);
    expect(ofKind(docs, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard)).toEqual([]);
    expect(ofKind(docs, 'ConfigMap')).toHaveLength(1);
  });

  it('ServiceMonitor scrapes the metrics port, with additionalLabels', () => {
    const docs = render({ serviceMonitor: { enabled: true, additionalLabels: { release: 'kube-prometheus-stack' } } });
    const sm = one(docs, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.selector.matchLabels).toEqual(one(docs, 'Service').spec.selector);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: [NAMESPACE] });
    expect(sm.spec.endpoints).toEqual([{ port: 'http-metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    for (const label of Object.keys(sm.spec.selector.matchLabels)) expect(one(docs, 'Service').metadata.labels[label]).toBeDefined();
  });

  it('PrometheusRule carries the rules file, PhoebeDown pointed at this release, with additionalLabels', () => {
    const docs = render({ prometheusRule: { enabled: true, additionalLabels: { release: 'kube-prometheus-stack', team: 'data' } } });
    const rule = one(docs, 'PrometheusRule');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', team: 'data' });
    const source = readFileSync('config/prometheus/phoebe-rules.yaml', 'utf8');
    expect(source).toContain('up{job="phoebe"}');
    const expected = parse(source.replaceAll('up{job="phoebe"}', `up{job="${FULLNAME}", namespace="${NAMESPACE}"}`)) as Obj;
    expect(rule.spec).toEqual({ groups: expected.groups });
    const down = (rule.spec.groups as Obj[]).flatMap((g) => g.rules as Obj[]).find((r) => r.alert === 'PhoebeDown');
    expect(down?.expr).toContain(`job="${FULLNAME}"`);
    // Prometheus templates in annotations pass through untouched.
    expect(JSON.stringify(rule.spec)).toContain('{{ $labels.instance }}');
  });

  it('dashboard ConfigMaps carry each dashboard verbatim, labelled grafana_dashboard "1", with additionalLabels', () => {
    const docs = render({ dashboards: { enabled: true, additionalLabels: { team: 'data' }, annotations: { grafana_folder: 'Flink' } } });
    const dashboards = ofKind(docs, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard !== undefined);
    const sources = readdirSync('grafana').filter((f) => f.endsWith('.json')).sort();
    expect(dashboards).toHaveLength(sources.length);
    for (const file of sources) {
      const cm = dashboards.find((c) => file in (c.data as Obj));
      expect(cm, file).toBeDefined();
      expect(cm?.metadata.labels).toMatchObject({ grafana_dashboard: '1', team: 'data' });
      expect(cm?.metadata.annotations).toEqual({ grafana_folder: 'Flink' });
      expect(cm?.data[file]).toBe(readFileSync(`grafana/${file}`, 'utf8'));
    }
  });
});

describe('values.schema.json', () => {
  function rejects(args: string[], ...mentions: string[]): void {
    const r = run(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...args]);
    expect(r.status, args.join(' ')).not.toBe(0);
    for (const m of mentions) expect(r.stderr, args.join(' ')).toContain(m);
  }

  it('rejects an unknown top-level key', () => rejects(['--set', 'unknownKey=1'], 'unknownKey'));
  it('rejects an unknown nested key', () => {
    rejects(['--set', 'image.tga=1.0'], '/image', 'tga');
    rejects(['--set', 'config.job.nmae=x'], '/config/job', 'nmae');
    rejects(['--set', 'serviceMonitor.additonalLabels.release=x'], '/serviceMonitor', 'additonalLabels');
  });
  it('rejects an invalid actuation mode', () => rejects(['--set', 'config.actuation.mode=autoscale'], '/config/actuation/mode', 'recommend'));
  it('rejects a wrong type', () => {
    rejects(['--set', 'replicaCount=two'], '/replicaCount', 'integer');
    rejects(['--set-string', 'serviceMonitor.enabled=yes'], '/serviceMonitor/enabled', 'boolean');
    rejects(['--set', 'config.parallelism.max=-1'], '/config/parallelism/max');
  });
  it('has no place for an inline secret', () => {
    rejects(['--set', 'config.prometheus.bearerToken=s3cr3t'], '/config/prometheus', 'bearerToken');
    rejects(['--set', 'config.prometheus.basicAuth.password=s3cr3t'], '/config/prometheus/basicAuth', 'password');
    rejects(['--set', 'config.exporter.listen=127.0.0.1:9464'], '/config', 'exporter');
  });
});

describe('README', () => {
  it('documents the sidecar container as valid YAML running phoebe with PHOEBE_LISTEN', () => {
    const readme = readFileSync(`${CHART}/README.md`, 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const sidecar = blocks.map((b) => parse(b) as Obj).find((doc) => doc?.kind === 'FlinkDeployment');
    expect(sidecar, 'a FlinkDeployment snippet').toBeDefined();
    // In the JobManager's pod template only: spec.podTemplate would put phoebe in every TaskManager too.
    expect(sidecar?.spec.podTemplate).toBeUndefined();
    const pod = sidecar?.spec.jobManager.podTemplate.spec as Obj;
    const phoebe = (pod.containers as Obj[]).find((c) => c.name === 'phoebe');
    expect(phoebe?.command).toEqual(['node', 'dist/src/cli/bin.js', 'run', '--config', '/etc/phoebe/phoebe.yaml']);
    expect(phoebe?.env).toContainEqual({ name: 'PHOEBE_LISTEN', value: '0.0.0.0:9464' });
    expect(phoebe?.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(phoebe?.livenessProbe.httpGet.path).toBe('/healthz');
    // An unready sidecar would take the JobManager out of its Services.
    expect(phoebe?.readinessProbe).toBeUndefined();
    const volumes = (pod.volumes as Obj[]).map((v) => v.name);
    for (const mount of phoebe?.volumeMounts as Obj[]) expect(volumes).toContain(mount.name);
    expect(phoebe?.volumeMounts).toContainEqual({ name: 'phoebe-tmp', mountPath: '/tmp' });
  });
});
