import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * OpenAI's own API spec (../shared/openai-openapi.yaml) as a validator: whatever the gateway
 * answers must match the schema an OpenAI client was generated from. This is the client-agnostic
 * proof of compatibility; the SDK-driven tests only prove that one client copes.
 */
export type OpenAISchemaName =
  | 'CreateChatCompletionResponse'
  | 'CreateChatCompletionStreamResponse'
  | 'ListModelsResponse'
  | 'Model'
  | 'ErrorResponse';

const SPEC_PATH = fileURLToPath(new URL('../../../shared/openai-openapi.yaml', import.meta.url));

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function load(): Ajv {
  if (ajv) return ajv;
  const spec = parse(readFileSync(SPEC_PATH, 'utf8'), { maxAliasCount: -1 }) as { components: { schemas: Record<string, unknown> } };
  // strict:false because the spec uses OpenAPI-only keywords (x-oaiMeta, discriminator, example...).
  ajv = new Ajv({ strict: false, allErrors: true, discriminator: false, validateFormats: true });
  addFormats.default(ajv);
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addSchema({ $id: 'openai', components: openApiNullable(spec.components) }, 'openai');
  return ajv;
}

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

/** Throws with ajv's errors when `value` does not match the named schema. */
export function assertOpenAISchema(name: OpenAISchemaName, value: unknown): void {
  let validate = compiled.get(name);
  if (!validate) {
    const instance = load();
    validate = instance.compile({ $ref: `openai#/components/schemas/${name}` });
    compiled.set(name, validate);
  }
  if (!validate(value)) {
    throw new Error(
      `${name} does not match OpenAI's schema:\n${JSON.stringify(validate.errors?.slice(0, 8), null, 2)}\nvalue: ${JSON.stringify(value).slice(0, 2000)}`,
    );
  }
}
