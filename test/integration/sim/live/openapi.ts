import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { loadYaml, specPath } from '../../../support/live-cluster-harness.js';

/**
 * Validators for the Flink REST API's OpenAPI 3.0 spec (config/specs/flink-rest-v1.yml).
 *
 * Conversion to JSON Schema for ajv:
 * - `#/components/schemas/X` refs become `#/definitions/X` of one schema document;
 * - `oneOf` becomes `anyOf`: the spec's only oneOf (AsynchronousOperationResult.operation) lists
 *   three object schemas with no required properties and open additional properties, so any
 *   real Flink response (e.g. {"location": "…"}) matches all three and strict oneOf would
 *   reject every one of them;
 * - strict mode (default): every object schema with `properties` and no `additionalProperties`
 *   gets `additionalProperties: false`, so a misspelt field fails instead of passing
 *   unnoticed. The only allowance: SerializedThrowable also has `class` and `stack-trace`,
 *   which Flink sends beside `serialized-throwable`.
 */

// ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

interface OpenApi {
  paths: Record<string, Record<string, {
    requestBody?: { content?: Record<string, { schema?: unknown }> };
    responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  }>>;
  components: { schemas: Record<string, unknown> };
}

function convert(node: unknown, strict: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => convert(n, strict));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace('#/components/schemas/', '#/definitions/');
    else if (key === 'oneOf') out.anyOf = convert(value, strict);
    else out[key] = convert(value, strict);
  }
  if (strict && out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export class FlinkOpenApi {
  private readonly spec: OpenApi;
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(strict = true) {
    this.spec = loadYaml(specPath('flink-rest-v1.yml')) as OpenApi;
    const definitions = convert(this.spec.components.schemas, strict) as Record<string, Record<string, unknown>>;
    const throwable = definitions.SerializedThrowable as { properties: Record<string, unknown> };
    throwable.properties.class = { type: 'string' };
    throwable.properties['stack-trace'] = { type: 'string' };
    this.ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'flink-rest', definitions });
  }

  private compile(key: string, schema: unknown): ValidateFunction {
    let validate = this.cache.get(key);
    if (!validate) {
      const converted = convert(schema, true) as Record<string, unknown>;
      // Refs resolve against the document that holds the definitions.
      const rewritten = JSON.parse(JSON.stringify(converted).replace(/"#\/definitions\//g, '"flink-rest#/definitions/'));
      validate = this.ajv.compile(rewritten);
      this.cache.set(key, validate);
    }
    return validate;
  }

  /** The schema of a path's response (e.g. ('get', '/jobs/{jobid}', '200')). */
  responseSchema(method: string, path: string, status: string): unknown {
    const operation = this.spec.paths[path]?.[method];
    if (!operation) throw new Error(`the spec has no ${method.toUpperCase()} ${path}`);
    const response = operation.responses?.[status];
    if (!response) throw new Error(`the spec has no ${status} response for ${method.toUpperCase()} ${path}`);
    return response.content?.['application/json']?.schema;
  }

  /** Errors of a response body against the spec (empty when valid). */
  checkResponse(method: string, path: string, status: string, body: unknown): string[] {
    const schema = this.responseSchema(method, path, status);
    if (schema === undefined) return [];
    const validate = this.compile(`res ${method} ${path} ${status}`, schema);
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '<root>'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }

  /** Errors of a request body against the spec's requestBody schema. */
  checkRequest(method: string, path: string, body: unknown): string[] {
    const schema = this.spec.paths[path]?.[method]?.requestBody?.content?.['application/json']?.schema;
    if (schema === undefined) throw new Error(`the spec has no request body for ${method.toUpperCase()} ${path}`);
    const validate = this.compile(`req ${method} ${path}`, schema);
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '<root>'} ${e.message ?? ''}`);
  }

  /** Every operation the spec defines, for coverage checks. */
  has(method: string, path: string): boolean {
    return this.spec.paths[path]?.[method] !== undefined;
  }
}
