import { describe, expect, test } from 'vitest';
import { DROPPED_FIELDS, DEFAULT_SYSTEM_PROMPT, shapeQwenBody, type ShapeOptions } from '../../lib/qwen/shape-qwen-body.ts';
import { DEFAULT_VISION_MODEL, lookupModel, QWEN_MODEL_LIMITS } from '../../lib/qwen/model-limits.ts';

type Json = Record<string, any>;

const base: ShapeOptions = {
  stream: false,
  oauth: false,
  sessionId: 'session-1',
  promptId: 'session-1########1',
  modelLimits: QWEN_MODEL_LIMITS,
};
const shape = (body: Json, options: Partial<ShapeOptions> = {}): Json => shapeQwenBody(body, { ...base, ...options });
const EPHEMERAL = { type: 'ephemeral' };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe('shapeQwenBody', () => {
  test('is pure: a deeply frozen client body is not touched, and a new object comes back', () => {
    const body = deepFreeze({
      model: 'coder-model',
      stream: true,
      max_tokens: 999_999,
      store: true,
      reasoning_effort: 'low',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      ],
      tools: [{ type: 'function', function: { name: 'f', strict: true, parameters: { $schema: 'x', type: 'object', properties: {} } } }],
    });
    const copy = structuredClone(body);
    const out = shape(body, { stream: true, oauth: true });
    expect(body).toEqual(copy);
    expect(out).not.toBe(body);
    expect(out.messages).not.toBe(body.messages);
  });

  describe('Qwen Code extras for OAuth accounts (protocol §4)', () => {
    test('metadata carries the session and prompt ids, replacing the client metadata', () => {
      const out = shape({ model: 'coder-model', metadata: { user: 'x' }, messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }] }, { oauth: true });
      expect(out.metadata).toEqual({ sessionId: 'session-1', promptId: 'session-1########1' });
    });

    test('non-stream: only the system message becomes a cache-controlled content array', () => {
      const out = shape({ model: 'coder-model', messages: [{ role: 'system', content: 'You are X.' }, { role: 'user', content: 'hi' }] }, { oauth: true });
      expect(out.messages).toEqual([
        { role: 'system', content: [{ type: 'text', text: 'You are X.', cache_control: EPHEMERAL }] },
        { role: 'user', content: 'hi' },
      ]);
    });

    test('stream: also the last message and the last tool', () => {
      const out = shape(
        {
          model: 'coder-model',
          messages: [
            { role: 'system', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
            { role: 'user', content: 'q1' },
            { role: 'assistant', content: 'a1' },
            { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] },
          ],
          tools: [
            { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } },
            { type: 'function', function: { name: 'g', parameters: { type: 'object', properties: {} } } },
          ],
        },
        { oauth: true, stream: true },
      );
      expect(out.messages[0].content).toEqual([{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: EPHEMERAL }]);
      expect(out.messages[1]).toEqual({ role: 'user', content: 'q1' });
      expect(out.messages[2]).toEqual({ role: 'assistant', content: 'a1' });
      expect(out.messages[3].content[1]).toEqual({ type: 'image_url', image_url: { url: 'data:image/png;base64,AA' }, cache_control: EPHEMERAL });
      expect(out.tools[0]).not.toHaveProperty('cache_control');
      expect(out.tools[1].cache_control).toEqual(EPHEMERAL);
    });

    test('a last message without content (tool calls only) is left alone', () => {
      const last = { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] };
      const out = shape({ model: 'coder-model', messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }, last] }, { oauth: true, stream: true });
      expect(out.messages[2]).toEqual(last);
    });

    test('a leading system message is added when the client sent none', () => {
      const out = shape({ model: 'coder-model', messages: [{ role: 'user', content: 'hi' }] }, { oauth: true });
      expect(out.messages).toEqual([
        { role: 'system', content: [{ type: 'text', text: DEFAULT_SYSTEM_PROMPT, cache_control: EPHEMERAL }] },
        { role: 'user', content: 'hi' },
      ]);
    });

    test("a client's system message elsewhere is not doubled", () => {
      const out = shape({ model: 'coder-model', messages: [{ role: 'user', content: 'hi' }, { role: 'system', content: 'late' }] }, { oauth: true });
      expect(out.messages.map((m: Json) => m.role)).toEqual(['user', 'system']);
      expect(out.messages[1].content).toEqual([{ type: 'text', text: 'late', cache_control: EPHEMERAL }]);
    });

    test('a developer message counts as the system message', () => {
      const out = shape({ model: 'coder-model', messages: [{ role: 'developer', content: 'dev' }, { role: 'user', content: 'hi' }] }, { oauth: true });
      expect(out.messages[0]).toEqual({ role: 'system', content: [{ type: 'text', text: 'dev', cache_control: EPHEMERAL }] });
      expect(out.messages).toHaveLength(2);
    });

    test("the client's own cache markers are kept and no more are added", () => {
      const messages = [
        { role: 'system', content: 's' },
        { role: 'user', content: [{ type: 'text', text: 'big doc', cache_control: EPHEMERAL }] },
        { role: 'user', content: 'q' },
      ];
      const out = shape({ model: 'coder-model', messages }, { oauth: true, stream: true });
      expect(out.messages).toEqual(messages);
    });

    test('API-key accounts get none of it', () => {
      const body = { model: 'qwen3-coder-plus', metadata: { a: '1' }, messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f' } }] };
      const out = shape(body, { stream: true });
      expect(out.messages).toEqual(body.messages);
      expect(out.metadata).toEqual({ a: '1' });
      expect(out.tools[0]).not.toHaveProperty('cache_control');
    });
  });

  describe('max_tokens', () => {
    test.each([
      ['coder-model', 100_000, 65_536],
      ['qwen3-coder-plus', 70_000, 65_536],
      ['qwen3-coder-plus-2025-09-23', 70_000, 65_536],
      ['qwen3-coder-flash', 70_000, 65_536],
      ['qwen3-max-2026-01-23', 70_000, 65_536],
      ['qwen3.7-max', 70_000, 70_000],
      ['MiniMax-M2.5', 70_000, 70_000],
      ['vision-model', 9_000, 8_192],
      ['qwen3-vl-plus', 40_000, 32_768],
      ['Coder-Model', 100_000, 65_536],
      ['coder-model', 1_000, 1_000],
      ['some-new-model', 1_000_000, 1_000_000],
    ])('%s: %i → %i', (model, requested, sent) => {
      expect(shape({ model, max_tokens: requested, messages: [{ role: 'user', content: 'x' }] }).max_tokens).toBe(sent);
    });

    test('max_completion_tokens becomes max_tokens (and is clamped)', () => {
      const out = shape({ model: 'vision-model', max_completion_tokens: 20_000, messages: [] });
      expect(out).not.toHaveProperty('max_completion_tokens');
      expect(out.max_tokens).toBe(8_192);
    });

    test('no max_tokens stays no max_tokens', () => {
      expect(shape({ model: 'coder-model', messages: [] })).not.toHaveProperty('max_tokens');
    });
  });

  describe('stream_options', () => {
    test('streams always ask for usage, keeping other options', () => {
      expect(shape({ model: 'coder-model', messages: [], stream: true }, { stream: true }).stream_options).toEqual({ include_usage: true });
      expect(shape({ model: 'm', messages: [], stream_options: { include_usage: false, include_obfuscation: false } }, { stream: true }).stream_options).toEqual({
        include_usage: true,
        include_obfuscation: false,
      });
    });

    test('non-streams send none', () => {
      expect(shape({ model: 'm', messages: [], stream_options: { include_usage: true } })).not.toHaveProperty('stream_options');
    });
  });

  describe('reasoning effort → enable_thinking / thinking_budget', () => {
    test.each([
      ['none', { enable_thinking: false }],
      ['minimal', { enable_thinking: false }],
      ['low', { enable_thinking: true, thinking_budget: 1024 }],
      ['medium', { enable_thinking: true, thinking_budget: 8192 }],
      ['high', { enable_thinking: true }],
      ['xhigh', { enable_thinking: true }],
    ])('reasoning_effort %s', (effort, expected) => {
      const out = shape({ model: 'coder-model', messages: [], reasoning_effort: effort });
      expect(out).not.toHaveProperty('reasoning_effort');
      expect({ enable_thinking: out.enable_thinking, thinking_budget: out.thinking_budget }).toEqual({ thinking_budget: undefined, ...expected });
    });

    test('reasoning.effort (Responses / OpenRouter style) maps the same, and `reasoning` is removed', () => {
      const out = shape({ model: 'coder-model', messages: [], reasoning: { effort: 'medium', summary: 'auto' } });
      expect(out).not.toHaveProperty('reasoning');
      expect(out).toMatchObject({ enable_thinking: true, thinking_budget: 8192 });
    });

    test('reasoning_effort wins over reasoning.effort; Qwen-native fields win over both', () => {
      expect(shape({ model: 'm', messages: [], reasoning_effort: 'none', reasoning: { effort: 'high' } }).enable_thinking).toBe(false);
      expect(shape({ model: 'm', messages: [], reasoning_effort: 'low', enable_thinking: false })).toMatchObject({ enable_thinking: false });
      expect(shape({ model: 'm', messages: [], reasoning_effort: 'low', thinking_budget: 500 })).toMatchObject({ enable_thinking: true, thinking_budget: 500 });
    });

    test('unknown efforts are dropped without a thinking switch', () => {
      const out = shape({ model: 'm', messages: [], reasoning_effort: 'turbo' });
      expect(out).not.toHaveProperty('reasoning_effort');
      expect(out).not.toHaveProperty('enable_thinking');
    });
  });

  describe('images', () => {
    const withImage = (model: string) => ({
      model,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
    });

    test('go to the vision model when the requested one cannot read them, clamped to its limit', () => {
      const out = shape({ ...withImage('qwen3-coder-plus'), max_tokens: 30_000 });
      expect(out.model).toBe(DEFAULT_VISION_MODEL);
      expect(out.max_tokens).toBe(8_192);
      expect(out.vl_high_resolution_images).toBe(true);
    });

    test('the vision model is configurable, and null turns rerouting off', () => {
      expect(shape(withImage('qwen3-coder-flash'), { visionModel: 'qwen3-vl-plus' }).model).toBe('qwen3-vl-plus');
      const off = shape(withImage('qwen3-coder-flash'), { visionModel: null });
      expect(off.model).toBe('qwen3-coder-flash');
      expect(off).not.toHaveProperty('vl_high_resolution_images');
    });

    test('a vision-capable model keeps them, with vl_high_resolution_images as Qwen Code sets it', () => {
      const out = shape(withImage('coder-model'));
      expect(out.model).toBe('coder-model');
      expect(out.vl_high_resolution_images).toBe(true);
    });

    test("the client's own vl_high_resolution_images wins", () => {
      expect(shape({ ...withImage('vision-model'), vl_high_resolution_images: false }).vl_high_resolution_images).toBe(false);
    });

    test('text-only requests to a non-vision model are not rerouted', () => {
      const out = shape({ model: 'qwen3-coder-plus', messages: [{ role: 'user', content: 'hi' }] });
      expect(out.model).toBe('qwen3-coder-plus');
      expect(out).not.toHaveProperty('vl_high_resolution_images');
    });
  });

  describe('fields Qwen refuses or ignores', () => {
    test.each(DROPPED_FIELDS)('%s is dropped', (field) => {
      expect(shape({ model: 'm', messages: [], [field]: 'x' })).not.toHaveProperty(field);
    });

    test('fields Qwen understands pass through', () => {
      const kept = { temperature: 0.2, top_p: 0.9, seed: 1, n: 1, stop: ['x'], parallel_tool_calls: false, response_format: { type: 'json_object' }, user: 'u', logprobs: true, top_logprobs: 2, enable_search: true };
      expect(shape({ model: 'm', messages: [], tools: [{ type: 'function', function: { name: 'f' } }], ...kept })).toMatchObject(kept);
    });
  });

  describe('tools', () => {
    test('schemas are cleaned and strict is removed', () => {
      const out = shape({
        model: 'm',
        messages: [],
        tools: [{ type: 'function', function: { name: 'f', description: 'd', strict: true, parameters: { $schema: 'x', type: 'object', properties: { a: { const: 'b' } }, additionalProperties: false } } }],
      });
      expect(out.tools).toEqual([{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object', properties: { a: { enum: ['b'] } } } } }]);
    });

    test('an empty tool list is not sent, nor what only makes sense with tools', () => {
      const out = shape({ model: 'm', messages: [], tools: [], tool_choice: 'auto', parallel_tool_calls: true });
      expect(out).not.toHaveProperty('tools');
      expect(out).not.toHaveProperty('tool_choice');
      expect(out).not.toHaveProperty('parallel_tool_calls');
    });

    test('a forced tool_choice with thinking on becomes auto (Qwen refuses it while thinking); without thinking it stays', () => {
      const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
      const named = { type: 'function', function: { name: 'f' } };
      expect(shape({ model: 'qwen3.6-plus', messages: [], tools, tool_choice: 'required', enable_thinking: true }).tool_choice).toBe('auto');
      expect(shape({ model: 'qwen3.6-plus', messages: [], tools, tool_choice: named, reasoning_effort: 'high' }).tool_choice).toBe('auto');
      expect(shape({ model: 'qwen3.6-plus', messages: [], tools, tool_choice: 'none', enable_thinking: true }).tool_choice).toBe('none');
      expect(shape({ model: 'qwen3.6-plus', messages: [], tools, tool_choice: named, enable_thinking: false }).tool_choice).toEqual(named);
      expect(shape({ model: 'qwen3.6-plus', messages: [], tools, tool_choice: 'required' }).tool_choice).toBe('required');
    });
  });
});

describe('thinking switches follow what the model can do', () => {
  const user = [{ role: 'user', content: 'x' }];
  test('an instruct model (qwen3-coder-*) gets none: providers that check refuse them', () => {
    const out = shape({ model: 'qwen3-coder-plus', messages: user, reasoning_effort: 'medium' });
    expect(out).not.toHaveProperty('enable_thinking');
    expect(out).not.toHaveProperty('thinking_budget');
    // With no thinking, a forced tool choice is fine and stays.
    const forced = shape({ model: 'qwen3-coder-flash', messages: user, enable_thinking: true, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required' });
    expect(forced).toMatchObject({ tool_choice: 'required' });
    expect(forced).not.toHaveProperty('enable_thinking');
  });

  test('a hybrid model gets them; a thinking-only model is never switched off', () => {
    expect(shape({ model: 'qwen3.6-plus', messages: user, reasoning_effort: 'low' })).toMatchObject({ enable_thinking: true, thinking_budget: 1024 });
    expect(shape({ model: 'qwen3.6-plus', messages: user, reasoning_effort: 'none' })).toMatchObject({ enable_thinking: false });
    expect(shape({ model: 'qwen3.8-max-preview', messages: user, reasoning_effort: 'none' })).not.toHaveProperty('enable_thinking');
    // A model the table does not know keeps whatever was asked.
    expect(shape({ model: 'some-new-model', messages: user, enable_thinking: true })).toMatchObject({ enable_thinking: true });
  });
});

describe('lookupModel', () => {
  test('exact ids, dated snapshots and families; unknown models are unknown', () => {
    expect(lookupModel(QWEN_MODEL_LIMITS, 'coder-model')?.outputTokens).toBe(65_536);
    expect(lookupModel(QWEN_MODEL_LIMITS, 'qwen3-vl-plus-2025-09-23')?.outputTokens).toBe(32_768);
    expect(lookupModel(QWEN_MODEL_LIMITS, 'qwen-vl-max-latest')?.vision).toBe(true);
    expect(lookupModel(QWEN_MODEL_LIMITS, 'qwen3-coder-plusplus')).toBeUndefined();
    expect(lookupModel(QWEN_MODEL_LIMITS, 'gpt-4o')).toBeUndefined();
  });
});
