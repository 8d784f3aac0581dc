import { Ajv, type ValidateFunction } from 'ajv';
import schemas from '../fixtures/anthropic-schemas.json' with { type: 'json' };

/**
 * Anthropic's API objects as JSON Schemas generated from the official SDK's own type declarations
 * (scripts/extract-anthropic-schemas.mjs; Anthropic publishes no machine-readable spec). Every field
 * the SDK declares must be present, and nothing it does not know may be, so an answer that passes is
 * one the SDK's types describe exactly.
 */
export type AnthropicSchemaName = 'Message' | 'RawMessageStreamEvent' | 'MessageTokensCount' | 'ErrorResponse' | 'ModelInfo';

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ $id: 'anthropic', definitions: schemas.definitions });
const compiled = new Map<string, ValidateFunction>();

/** Throws with ajv's errors when `value` does not match the named type. */
export function assertAnthropicSchema(name: AnthropicSchemaName, value: unknown): void {
  let validate = compiled.get(name);
  if (!validate) {
    validate = ajv.compile({ $ref: `anthropic#/definitions/${name}` });
    compiled.set(name, validate);
  }
  if (!validate(value)) {
    throw new Error(`Not a valid Anthropic ${name}: ${ajv.errorsText(validate.errors, { separator: '\n  ' })}\n${JSON.stringify(value).slice(0, 600)}`);
  }
}
