/**
 * Kubernetes clients for the actuators and the event recorder. Three ways to connect:
 * - `in-cluster`: the pod's service account (token file, CA, KUBERNETES_SERVICE_HOST/PORT);
 * - `kubeconfig`: a kubeconfig file (optionally a context in it);
 * - `server`: an explicit API server URL with no authentication — for tests and the live twin
 *   (http://127.0.0.1:PORT).
 * Nothing here logs or returns a token, a client key or kubeconfig content; errors name the file
 * and an error code only.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  setHeaderOptions,
  Watch,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

export type KubeConnection =
  | { kind: 'in-cluster' }
  | { kind: 'kubeconfig'; path: string; context?: string }
  | {
      kind: 'server';
      /** e.g. http://127.0.0.1:8001; http is allowed only for a loopback host. */
      server: string;
      /** Only for https servers with a self-signed certificate in tests. Default false. */
      insecureSkipTlsVerify?: boolean;
    };

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeClients {
  kubeConfig: KubeConfig;
  customObjects: CustomObjectsApi;
  apps: AppsV1Api;
  core: CoreV1Api;
  watch: Watch;
  /** Where the clients point, without credentials, for logs. */
  describe: string;
}

function loopback(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname === '::1';
}

export function createKubeConfig(connection: KubeConnection): KubeConfig {
  const kc = new KubeConfig();
  switch (connection.kind) {
    case 'in-cluster': {
      if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT) {
        throw new Error('not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST/PORT unset); configure a kubeconfig path or a server URL');
      }
      if (!existsSync(`${SERVICE_ACCOUNT_DIR}/token`)) {
        throw new Error(`no service account token at ${SERVICE_ACCOUNT_DIR}/token (is automountServiceAccountToken off?)`);
      }
      kc.loadFromCluster();
      return kc;
    }
    case 'kubeconfig': {
      try {
        kc.loadFromFile(connection.path);
      } catch (err) {
        // YAML errors quote the file; keep only the error code.
        const code = err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : 'invalid kubeconfig';
        throw new Error(`cannot load kubeconfig ${connection.path}: ${code}`);
      }
      if (connection.context) {
        if (!kc.getContexts().some((c) => c.name === connection.context)) {
          throw new Error(`kubeconfig ${connection.path} has no context "${connection.context}"`);
        }
        kc.setCurrentContext(connection.context);
      }
      if (!kc.getCurrentCluster()) throw new Error(`kubeconfig ${connection.path} has no current cluster`);
      return kc;
    }
    case 'server': {
      const url = new URL(connection.server);
      if (url.username || url.password) throw new Error('the Kubernetes server URL must not contain credentials');
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Kubernetes server URL must be http(s), got ${url.protocol}`);
      if (url.protocol === 'http:' && !loopback(url.hostname)) {
        throw new Error('plain http to the Kubernetes API is only allowed on 127.0.0.1 (tests, the live twin)');
      }
      // client-node refuses http unless skipTLSVerify is set; it has no TLS to verify there anyway.
      const skipTLSVerify = url.protocol === 'http:' ? true : connection.insecureSkipTlsVerify === true;
      kc.loadFromOptions({
        clusters: [{ name: 'phoebe-target', server: url.origin, skipTLSVerify }],
        users: [{ name: 'phoebe-anonymous' }],
        contexts: [{ name: 'phoebe', cluster: 'phoebe-target', user: 'phoebe-anonymous' }],
        currentContext: 'phoebe',
      });
      return kc;
    }
  }
}

export function describeConnection(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  if (!cluster) return 'kubernetes (no cluster)';
  try {
    const url = new URL(cluster.server);
    return `kubernetes ${url.origin}`;
  } catch {
    return 'kubernetes (invalid server URL)';
  }
}

export function createKubeClients(connection: KubeConnection): KubeClients {
  const kubeConfig = createKubeConfig(connection);
  return {
    kubeConfig,
    customObjects: kubeConfig.makeApiClient(CustomObjectsApi),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    core: kubeConfig.makeApiClient(CoreV1Api),
    watch: new Watch(kubeConfig),
    describe: describeConnection(kubeConfig),
  };
}

/** The namespace the pod runs in (service account namespace file), if any. */
export function inClusterNamespace(): string | undefined {
  try {
    const ns = readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim();
    return ns === '' ? undefined : ns;
  } catch {
    return undefined;
  }
}

/**
 * Per-call options for the generated API clients: a request timeout (client-node sets none by
 * default) and, for patches, the Content-Type (e.g. PatchStrategy.MergePatch).
 */
export function callOptions(timeoutMs: number, contentType?: string): ConfigurationOptions<ObservableMiddleware> {
  const timeout: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
  const base: ConfigurationOptions<ObservableMiddleware> = { middleware: [timeout], middlewareMergeStrategy: 'append' };
  return contentType ? setHeaderOptions('Content-Type', contentType, base) : base;
}
