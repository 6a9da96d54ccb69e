import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import crd from './flinkdeployment-crd-schema.json' with { type: 'json' };
import type { StatusCause } from './kube-store.js';

/**
 * The FlinkDeployment CRD (flink.apache.org/v1beta1) as the Flink Kubernetes Operator installs
 * it: flinkdeployment-crd-schema.json holds its group, version, kind, plural and
 * openAPIV3Schema, converted unchanged from the CRD YAML bundled in
 * config/specs/flinkdeployments.flink.apache.org-v1.yml
 * (test/sim/live/flinkdeployment-schema.test.ts checks that they stay identical). The live
 * twin's API server validates every FlinkDeployment it stores against it, as a real API server
 * validates custom resources against their CRD's structural schema.
 */
export const FLINK_DEPLOYMENT_CRD = crd as {
  group: string;
  version: string;
  kind: string;
  plural: string;
  openAPIV3Schema: Record<string, unknown>;
};

let compiled: ValidateFunction | undefined;

/** Every `x-kubernetes-*` annotation keyword used in a schema (ajv must know them in strict mode). */
function kubernetesKeywords(schema: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const item of schema) kubernetesKeywords(item, found);
  else if (schema !== null && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key.startsWith('x-kubernetes-')) found.add(key);
      kubernetesKeywords(value, found);
    }
  }
  return found;
}

function validator(): ValidateFunction {
  if (!compiled) {
    // Code optimisation would take seconds on this ~180 kB schema; unoptimised it compiles in ~1 s.
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, code: { optimize: false } });
    for (const keyword of kubernetesKeywords(FLINK_DEPLOYMENT_CRD.openAPIV3Schema)) ajv.addKeyword({ keyword });
    compiled = ajv.compile(FLINK_DEPLOYMENT_CRD.openAPIV3Schema);
  }
  return compiled;
}

/** Compiles the validator now (about a second), so the first PATCH is not the one that waits. */
export function warmUpFlinkDeploymentSchema(): void {
  validator();
}

/** `/spec/job/parallelism` → `spec.job.parallelism`, the API server's field notation. */
function fieldPath(error: ErrorObject): string {
  const parts = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : `${out ? '.' : ''}${part}`;
  return out || '<root>';
}

function describe(error: ErrorObject, value: unknown): StatusCause {
  const field = fieldPath(error);
  const shown = JSON.stringify(value);
  switch (error.keyword) {
    case 'type':
      return { reason: 'FieldValueTypeInvalid', field, message: `Invalid value: ${JSON.stringify(shown)}: ${field} in body must be of type ${String(error.params.type)}: ${JSON.stringify(shown)}` };
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return { reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${shown}: supported values: ${allowed}` };
    }
    case 'required':
      return { reason: 'FieldValueRequired', field: `${field === '<root>' ? '' : `${field}.`}${String(error.params.missingProperty)}`, message: 'Required value' };
    default:
      return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${shown}: ${error.message ?? 'is invalid'}` };
  }
}

function valueAt(object: unknown, instancePath: string): unknown {
  let node = object;
  for (const part of instancePath.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

/**
 * Validates a whole FlinkDeployment object against the CRD's openAPIV3Schema. Returns the
 * causes (empty when valid), one per violation, in the API server's wording.
 */
export function validateFlinkDeployment(object: unknown): StatusCause[] {
  const validate = validator();
  if (validate(object)) return [];
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    // anyOf (int-or-string) reports each branch and then itself; the branches are enough.
    if (error.keyword === 'anyOf') continue;
    const cause = describe(error, valueAt(object, error.instancePath));
    const key = `${cause.field}|${cause.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      causes.push(cause);
    }
  }
  return causes;
}
