import { describe, expect, test } from 'vitest';
import { cleanToolSchema } from '../../lib/qwen/clean-tool-schema.ts';

describe('cleanToolSchema', () => {
  test('removes $schema, $id and $comment at every level', () => {
    expect(
      cleanToolSchema({
        $schema: 'http://json-schema.org/draft-07/schema#',
        $id: 'urn:tool',
        $comment: 'generated',
        type: 'object',
        properties: { a: { $id: 'a', $comment: 'x', type: 'string' } },
        required: ['a'],
      }),
    ).toEqual({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] });
  });

  test('drops additionalProperties:false only where some property is optional (Qwen Code #7315)', () => {
    const allRequired = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
    expect(cleanToolSchema(allRequired)).toEqual(allRequired);
    expect(cleanToolSchema({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a'], additionalProperties: false })).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      required: ['a'],
    });
    expect(cleanToolSchema({ type: 'object', properties: { a: {} }, additionalProperties: false })).toEqual({ type: 'object', properties: { a: {} } });
  });

  test('keeps additionalProperties that is a schema (cleaned) or true', () => {
    expect(cleanToolSchema({ type: 'object', additionalProperties: { $schema: 'x', type: 'string', const: 'v' } })).toEqual({
      type: 'object',
      additionalProperties: { type: 'string', enum: ['v'] },
    });
    expect(cleanToolSchema({ type: 'object', additionalProperties: true })).toEqual({ type: 'object', additionalProperties: true });
  });

  test('removes patternProperties, propertyNames and if/then/else', () => {
    expect(
      cleanToolSchema({
        type: 'object',
        properties: { kind: { type: 'string' } },
        required: ['kind'],
        patternProperties: { '^x-': { type: 'string' } },
        propertyNames: { pattern: '^[a-z]+$' },
        if: { properties: { kind: { const: 'a' } } },
        then: { required: ['a'] },
        else: { required: ['b'] },
      }),
    ).toEqual({ type: 'object', properties: { kind: { type: 'string' } }, required: ['kind'] });
  });

  test('const becomes a one-value enum; an existing enum wins', () => {
    expect(cleanToolSchema({ type: 'string', const: 'read' })).toEqual({ type: 'string', enum: ['read'] });
    expect(cleanToolSchema({ const: 3 })).toEqual({ enum: [3] });
    expect(cleanToolSchema({ const: 'a', enum: ['a', 'b'] })).toEqual({ enum: ['a', 'b'] });
  });

  test('keeps what tells the model what to produce', () => {
    const schema = {
      type: 'object',
      title: 'Edit',
      description: 'Edit a file',
      properties: {
        path: { type: 'string', format: 'uri-reference', minLength: 1, pattern: '^[^\\0]+$', examples: ['src/a.ts'] },
        mode: { type: 'string', enum: ['a', 'b'], default: 'a' },
        count: { type: ['integer', 'null'], minimum: 0, maximum: 10 },
        target: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
        not_empty: { not: { type: 'null' } },
      },
      required: ['path', 'mode', 'count', 'target', 'not_empty'],
    };
    expect(cleanToolSchema(schema)).toEqual(schema);
  });

  test('property names that look like keywords are names, not keywords', () => {
    const schema = {
      type: 'object',
      properties: {
        $schema: { type: 'string' },
        if: { type: 'boolean' },
        const: { type: 'string' },
        additionalProperties: { type: 'object', additionalProperties: false, properties: {} },
        patternProperties: { type: 'string' },
      },
    };
    expect(cleanToolSchema(schema)).toEqual(schema);
  });

  test('data values are never walked', () => {
    const schema = {
      type: 'object',
      properties: { config: { type: 'object', default: { $schema: 'kept', if: 1, const: 2 }, examples: [{ $id: 'kept' }] } },
      required: ['config'],
      enum: [{ $schema: 'kept' }],
    };
    expect(cleanToolSchema(schema)).toEqual(schema);
  });

  test('walks items, unions, nested definitions and arrays of schemas', () => {
    expect(
      cleanToolSchema({
        type: 'array',
        items: { $schema: 'x', anyOf: [{ const: 1 }, { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }] },
        prefixItems: [{ $id: 'p', type: 'string' }],
      }),
    ).toEqual({
      type: 'array',
      items: { anyOf: [{ enum: [1] }, { type: 'object', properties: { a: { type: 'string' } } }] },
      prefixItems: [{ type: 'string' }],
    });
  });

  test('referenced $defs stay with their $ref; unreferenced ones are dropped', () => {
    const referenced = {
      type: 'object',
      properties: { item: { $ref: '#/$defs/Item' } },
      required: ['item'],
      $defs: { Item: { type: 'object', properties: { id: { type: 'string', $comment: 'x' } }, required: ['id'] } },
    };
    expect(cleanToolSchema(referenced)).toEqual({
      ...referenced,
      $defs: { Item: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } },
    });
    expect(cleanToolSchema({ type: 'object', properties: {}, definitions: { Unused: { type: 'string' } } })).toEqual({ type: 'object', properties: {} });
    // A property named $ref is not a reference.
    expect(cleanToolSchema({ type: 'object', properties: { $ref: { type: 'string' } }, required: ['$ref'], $defs: { X: {} } })).toEqual({
      type: 'object',
      properties: { $ref: { type: 'string' } },
      required: ['$ref'],
    });
  });

  test('a Claude Code style schema (zod-to-json-schema output) comes out as Qwen Code would send it', () => {
    const bash = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The command to execute' },
        timeout: { type: 'number', description: 'Optional timeout in milliseconds (max 600000)' },
        run_in_background: { type: 'boolean' },
      },
      required: ['command'],
      additionalProperties: false,
    };
    expect(cleanToolSchema(bash)).toEqual({
      type: 'object',
      properties: bash.properties,
      required: ['command'],
    });
  });

  test('non-objects pass through; the input is not modified', () => {
    expect(cleanToolSchema(undefined)).toBeUndefined();
    expect(cleanToolSchema(true)).toBe(true);
    const input = { $schema: 'x', type: 'object', properties: { a: { const: 1 } }, additionalProperties: false };
    const copy = structuredClone(input);
    const out = cleanToolSchema(input);
    expect(input).toEqual(copy);
    expect(out).not.toBe(input);
  });
});
