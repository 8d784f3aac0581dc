import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { extractSchemas, ROOTS } from '../../scripts/extract-openai-schemas.mjs';
import { OPENAI_SPEC_VERSION, SCHEMA_FILE, assertOpenAISchema, validateResponsesSchema } from '../support/openai-schema.ts';

const file = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as {
  info: { version: string; license: { identifier: string }; roots: string[] };
  components: { schemas: Record<string, unknown> };
};

const refsIn = (node: unknown): string[] =>
  Array.isArray(node)
    ? node.flatMap(refsIn)
    : typeof node === 'object' && node !== null
      ? Object.entries(node).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refsIn(v)))
      : [];

describe('the in-repo OpenAI schemas', () => {
  test('hold every root the tests name, everything they refer to, and the licence and version', () => {
    expect(file.info.roots).toEqual(ROOTS);
    for (const root of ROOTS) expect(file.components.schemas).toHaveProperty(root);
    const missing = refsIn(file.components.schemas)
      .map((ref) => ref.replace('#/components/schemas/', ''))
      .filter((name) => !(name in file.components.schemas));
    expect(missing).toEqual([]);
    expect(file.info.license.identifier).toBe('MIT');
    expect(OPENAI_SPEC_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('the support module reads nothing outside the repository', () => {
    const source = readFileSync(new URL('../support/openai-schema.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/shared|\.yaml/);
    expect(SCHEMA_FILE.pathname).toMatch(/\/tests\/fixtures\/openai-schemas\.json$/);
  });

  test('extraction follows references, keeps a property called description, drops prose', () => {
    const spec = {
      info: { title: 'T', version: '9.9.9', license: { name: 'MIT' } },
      components: {
        schemas: {
          A: { description: 'prose', 'x-oaiMeta': {}, properties: { description: { type: 'string', example: 'x' }, b: { $ref: '#/components/schemas/B' } } },
          B: { type: 'integer', title: 'B' },
          Unused: { type: 'string' },
        },
      },
    };
    const out = extractSchemas(spec, ['A']);
    expect(out.components.schemas).toEqual({
      A: { properties: { description: { type: 'string' }, b: { $ref: '#/components/schemas/B' } } },
      B: { type: 'integer' },
    });
    expect(out.info).toMatchObject({ version: '9.9.9', license: { name: 'MIT' }, roots: ['A'] });
    expect(() => extractSchemas(spec, ['Nope'])).toThrow(/no schema Nope/);
  });
});

describe('Responses API validators', () => {
  const response = {
    id: 'resp_1',
    object: 'response',
    created_at: 1_760_000_000,
    status: 'completed',
    error: null,
    incomplete_details: null,
    instructions: null,
    model: 'coder-model',
    tools: [],
    tool_choice: 'auto',
    output: [
      {
        type: 'message',
        id: 'msg_1',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'hi', annotations: [], logprobs: [] }],
      },
    ],
    parallel_tool_calls: true,
    metadata: {},
    temperature: null,
    top_p: null,
  };

  test('a Response object and its stream events validate by schema name', () => {
    validateResponsesSchema('Response', response);
    validateResponsesSchema('ResponseStreamEvent', { type: 'response.completed', response, sequence_number: 3 });
    const delta = { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'h', sequence_number: 1, logprobs: [] };
    validateResponsesSchema('ResponseStreamEvent', delta);
    validateResponsesSchema('ResponseTextDeltaEvent', delta);
  });

  test('a wrong object is rejected with the schema name and the reason', () => {
    const { model: _, ...noModel } = response;
    expect(() => validateResponsesSchema('Response', noModel)).toThrow(/Response does not match[\s\S]*"missingProperty": "model"/);
    expect(() => validateResponsesSchema('ResponseStreamEvent', { type: 'response.output_text.delta', delta: 1 })).toThrow(/ResponseStreamEvent does not match/);
    expect(() => validateResponsesSchema('NoSuchSchema', {})).toThrow(/ROOTS/);
  });

  test('chat schemas still check (an error body without a message fails)', () => {
    assertOpenAISchema('ErrorResponse', { error: { message: 'm', type: 't', param: null, code: null } });
    expect(() => assertOpenAISchema('ErrorResponse', { error: { type: 't' } })).toThrow(/ErrorResponse/);
  });
});
