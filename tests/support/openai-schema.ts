import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * OpenAI's own API schemas as validators: whatever the gateway answers must match the schema an
 * OpenAI client was generated from. This is the client-agnostic proof of compatibility; the
 * SDK-driven tests only prove that one client copes.
 *
 * The schemas come from tests/fixtures/openai-schemas.json, the part of OpenAI's MIT-licensed spec
 * the tests use (scripts/extract-openai-schemas.mjs writes it; its `info` has the version).
 * Every validator is compiled when this module is imported, before any suite starts a server:
 * compiling on the first check blocked the event loop while kept-alive connections waited, and
 * the e2e suites saw sockets dropped under them.
 */
export type OpenAISchemaName =
  | 'CreateChatCompletionResponse'
  | 'CreateChatCompletionStreamResponse'
  | 'ListModelsResponse'
  | 'Model'
  | 'ErrorResponse';

/** The Responses API: a whole `Response` object, any one stream event, or a schema either refers to. */
export type ResponsesSchemaName = 'Response' | 'ResponseStreamEvent' | (string & {});

interface SchemaFile {
  info: { version: string; roots: string[] };
  components: { schemas: Record<string, unknown> };
}

export const SCHEMA_FILE = new URL('../fixtures/openai-schemas.json', import.meta.url);
const file = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as SchemaFile;
/** The version of OpenAI's spec the schemas were taken from. */
export const OPENAI_SPEC_VERSION = file.info.version;

// strict:false because the spec uses OpenAPI-only keywords (discriminator, nullable...).
const ajv = new Ajv({ strict: false, allErrors: true, discriminator: false, validateFormats: true });
addFormats.default(ajv);
ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
ajv.addSchema({ $id: 'openai', components: openApiNullable(file.components) }, 'openai');

const compiled = new Map<string, ValidateFunction>();
function validatorFor(name: string): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    if (!(name in file.components.schemas)) {
      throw new Error(`${name} is not in ${SCHEMA_FILE.pathname}; add it to ROOTS in scripts/extract-openai-schemas.mjs`);
    }
    validate = ajv.compile({ $ref: `openai#/components/schemas/${name}` });
    compiled.set(name, validate);
  }
  return validate;
}
for (const name of file.info.roots) validatorFor(name);

/**
 * The spec mixes OpenAPI 3.0's `nullable: true` into 3.1 schemas, sometimes without a `type`
 * (beside a $ref or allOf), which JSON Schema cannot express directly: rewrite it as "or null".
 */
function openApiNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(openApiNullable);
  if (typeof node !== 'object' || node === null) return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) out[key] = openApiNullable(value);
  if (nullable !== true) return out;
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] };
  if (Array.isArray(out.type)) return { ...out, type: [...out.type, 'null'] };
  return { anyOf: [out, { type: 'null' }] };
}

function assertSchema(name: string, value: unknown): void {
  const validate = validatorFor(name);
  if (!validate(value)) {
    throw new Error(
      `${name} does not match OpenAI's schema:\n${JSON.stringify(validate.errors?.slice(0, 8), null, 2)}\nvalue: ${JSON.stringify(value).slice(0, 2000)}`,
    );
  }
}

/** Throws with ajv's errors when `value` does not match the named schema. */
export function assertOpenAISchema(name: OpenAISchemaName, value: unknown): void {
  assertSchema(name, value);
}

/**
 * Throws with ajv's errors when `value` does not match the named Responses API schema: `Response`
 * for a whole response (POST /v1/responses, or the one inside response.completed), and
 * `ResponseStreamEvent` for each event of a stream (the union of every event type).
 */
export function validateResponsesSchema(name: ResponsesSchemaName, value: unknown): void {
  assertSchema(name, value);
}
