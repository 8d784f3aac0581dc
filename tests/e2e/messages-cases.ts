import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { assertAnthropicSchema } from '../support/anthropic-schema.ts';
import { useHarness } from './harness.ts';
import type { GatewayTarget, StartTarget } from './targets.ts';

type Json = Record<string, any>;

/** One SSE event of an Anthropic stream: its `event:` name and its parsed data. */
interface SseEvent {
  event: string | undefined;
  data: Json;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const lines = frame.split(/\r?\n/);
      const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
      return { event, data: JSON.parse(data) as Json };
    });
}

/**
 * Checks an Anthropic stream's grammar strictly: message_start first; every block started, deltas
 * only for the open block, stopped before the next starts; thinking blocks signed before they stop;
 * one message_delta, then message_stop last; each event named as its data's type.
 */
function assertEventOrder(events: SseEvent[]): void {
  for (const e of events) {
    expect(e.event).toBe(e.data.type);
    // Anthropic documents `ping` among its stream events; the SDK's union leaves it out.
    if (e.data.type === 'ping') expect(e.data).toEqual({ type: 'ping' });
    else assertAnthropicSchema('RawMessageStreamEvent', e.data);
  }
  const kinds = events.map((e) => e.data.type).filter((t) => t !== 'ping');
  expect(kinds[0]).toBe('message_start');
  expect(kinds.at(-1)).toBe('message_stop');
  expect(kinds.filter((k) => k === 'message_delta')).toHaveLength(1);
  expect(kinds.at(-2)).toBe('message_delta');
  let open: { index: number; type: string; signed: boolean } | undefined;
  let nextIndex = 0;
  for (const { data } of events) {
    if (data.type === 'content_block_start') {
      expect(open).toBeUndefined();
      expect(data.index).toBe(nextIndex++);
      open = { index: data.index, type: data.content_block.type, signed: false };
    } else if (data.type === 'content_block_delta') {
      expect(data.index).toBe(open?.index);
      if (data.delta.type === 'signature_delta') {
        expect(data.delta.signature).not.toBe('');
        open!.signed = true;
      }
    } else if (data.type === 'content_block_stop') {
      expect(data.index).toBe(open?.index);
      if (open?.type === 'thinking') expect(open.signed).toBe(true);
      open = undefined;
    } else if (data.type === 'message_delta') {
      expect(open).toBeUndefined();
    }
  }
}

/**
 * The Anthropic Messages API (/v1/messages), as Claude Code and the official Anthropic SDK use it,
 * on every host: each answer and event is checked against the SDK's own types.
 */
export function defineMessagesCases(start: StartTarget): void {
  const harness = useHarness(start);
  const { gateway, chatCalls, lastChatBody, keys } = harness;
  const client = (target: GatewayTarget, apiKey = keys[0]!) => new Anthropic({ baseURL: target.url, apiKey, maxRetries: 0 });
  /** A raw POST, for what the SDK hides (status, headers, the SSE text). */
  const post = (target: GatewayTarget, body: object | string, headers: Record<string, string> = {}, path = '/v1/messages?beta=true') =>
    fetch(`${target.url}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': keys[0]!, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const user = (text: string) => [{ role: 'user' as const, content: text }];

  describe('anthropic messages', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway({ KEEPALIVE_INTERVAL_MS: '100', UPSTREAM_IDLE_TIMEOUT_MS: '600' });
    });
    afterEach(() => harness.fake.setScenario({ dailyQuota: null, apiFault: 'none', resetAfterChunks: null, stallAfterChunks: null, maxInputTokens: null, thinkByDefault: false }));

    test('non-streaming: an Anthropic Message, the requested Claude name answered with a Qwen model', async () => {
      const message = await client(gw).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 200, messages: user('hello there') });
      assertAnthropicSchema('Message', message);
      expect(message).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', stop_reason: 'end_turn' });
      expect(message.id).toMatch(/^msg_/);
      expect(message.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('hello there') });
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      expect(lastChatBody().model).toBe('coder-model');
    });

    test("Claude Code's request shape is accepted: ?beta=true, betas, system blocks and system messages, context_management, output_config", async () => {
      const res = await post(
        gw,
        {
          model: 'claude-opus-4-7',
          max_tokens: 128000,
          system: [
            { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral', scope: 'global' } },
            { type: 'text', text: 'Be brief.' },
          ],
          messages: [
            { role: 'user', content: [{ type: 'text', text: 'first', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
            { role: 'system', content: 'A reminder from the harness.' },
            { role: 'assistant', content: [{ type: 'thinking', thinking: 'old', signature: 'sig' }, { type: 'text', text: 'ok' }] },
            { role: 'user', content: 'second' },
          ],
          context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
          output_config: { effort: 'low' },
          metadata: { user_id: 'user_abc' },
          stop_sequences: ['STOP'],
          temperature: 0.2,
          top_p: 0.9,
          top_k: 20,
          some_future_field: { anything: true },
        },
        { 'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,prompt-caching-scope-2026-01-05' },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('request-id')).toMatch(/^req_/);
      assertAnthropicSchema('Message', await res.json());
      const sent = lastChatBody();
      const messages = sent.messages as Json[];
      expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
      // Both system blocks and the in-conversation system message, in order; markers reduced to {type}.
      expect(messages[0]!.content).toEqual([
        { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Be brief.' },
        { type: 'text', text: 'A reminder from the harness.' },
      ]);
      expect(messages[1]!.content).toEqual([{ type: 'text', text: 'first', cache_control: { type: 'ephemeral' } }]);
      expect(messages[2]).toMatchObject({ role: 'assistant', content: 'ok' });
      expect(sent).toMatchObject({ max_tokens: 65536, stop: ['STOP'], temperature: 0.2, top_p: 0.9, top_k: 20, user: 'user_abc', enable_thinking: true, thinking_budget: 1024 });
      for (const dropped of ['context_management', 'output_config', 'some_future_field', 'metadata', 'system', 'stop_sequences']) {
        if (dropped === 'metadata') continue; // Qwen Code's own metadata is added for OAuth accounts
        expect(sent).not.toHaveProperty(dropped);
      }
    });

    test('streaming: the exact Anthropic event order, each event named as its type, no [DONE]', async () => {
      const res = await post(gw, { model: 'claude-sonnet-4-6', max_tokens: 100, stream: true, messages: user('stream me please') });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const text = await res.text();
      expect(text).not.toContain('[DONE]');
      const events = parseSse(text);
      assertEventOrder(events);
      const streamed = events.filter((e) => e.data.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('');
      expect(streamed).toContain('stream me please');
      const final = events.find((e) => e.data.type === 'message_delta')!.data;
      expect(final.delta.stop_reason).toBe('end_turn');
      expect(final.usage.output_tokens).toBeGreaterThan(0);
    });

    test("the SDK's messages.stream() helper assembles the answer", async () => {
      const stream = client(gw).messages.stream({ model: 'claude-haiku-4-5', max_tokens: 100, messages: user('helper stream') });
      // The helper's message is the SDK's own assembly of the events (each checked elsewhere).
      const message = await stream.finalMessage();
      expect(message.content.map((b) => (b.type === 'text' ? b.text : '')).join('')).toContain('helper stream');
      // haiku goes to the fast model.
      expect(lastChatBody().model).toBe('qwen3-coder-flash');
    });

    test('tools: input_schema becomes a function, hosted tools are dropped, and a call comes back as tool_use', async () => {
      const message = await client(gw).messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 200,
        messages: user('weather please [[tools]]'),
        tools: [
          { name: 'get_weather', description: 'Weather for a city', input_schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { city: { type: 'string' } } }, defer_loading: false } as never,
          { type: 'web_search_20250305', name: 'web_search', max_uses: 3 } as never,
        ],
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      });
      assertAnthropicSchema('Message', message);
      expect(message.stop_reason).toBe('tool_use');
      const call = message.content.find((b) => b.type === 'tool_use');
      expect(call).toMatchObject({ type: 'tool_use', name: 'get_weather', input: expect.any(Object) });
      expect(call!.id).toMatch(/^toolu_/);
      const sent = lastChatBody();
      const tools = sent.tools as Json[];
      expect(tools).toHaveLength(1);
      expect(tools[0]!.function).toMatchObject({ name: 'get_weather', description: 'Weather for a city' });
      expect(tools[0]!.function.parameters).not.toHaveProperty('$schema');
      expect(JSON.stringify(tools)).not.toContain('defer_loading');
      expect(sent).toMatchObject({ tool_choice: 'auto', parallel_tool_calls: false });

      // A forced choice reaches Qwen as such, except with thinking on, where Qwen refuses it: then auto.
      const tool = { name: 'get_weather', input_schema: { type: 'object' as const, properties: {} } };
      await client(gw).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 200, messages: user('forced'), tools: [tool], tool_choice: { type: 'tool', name: 'get_weather' } });
      expect(lastChatBody().tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
      await client(gw).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 2000, messages: user('forced, thinking'), tools: [tool], tool_choice: { type: 'any' }, thinking: { type: 'enabled', budget_tokens: 1024 } });
      expect(lastChatBody()).toMatchObject({ tool_choice: 'auto', enable_thinking: true });
    });

    test('tool calls stream as input_json_delta (Qwen reusing index 0 for a second call included), and the SDK assembles their input', async () => {
      harness.fake.setScenario({ toolIndexCollision: true });
      const res = await post(gw, {
        model: 'claude-sonnet-4-6',
        max_tokens: 200,
        stream: true,
        messages: user('two lookups [[tools:2]]'),
        tools: [{ name: 'lookup', input_schema: { type: 'object', properties: { query: { type: 'string' } } } }],
      });
      const events = parseSse(await res.text());
      assertEventOrder(events);
      const starts = events.filter((e) => e.data.type === 'content_block_start' && e.data.content_block.type === 'tool_use');
      expect(starts).toHaveLength(2);
      expect(new Set(starts.map((s) => s.data.content_block.id)).size).toBe(2);
      for (const start of starts) {
        const json = events.filter((e) => e.data.index === start.data.index && e.data.delta?.type === 'input_json_delta').map((e) => e.data.delta.partial_json).join('');
        expect(JSON.parse(json)).toMatchObject({ query: expect.any(String) });
      }
      expect(events.find((e) => e.data.type === 'message_delta')!.data.delta.stop_reason).toBe('tool_use');
      harness.fake.setScenario({ toolIndexCollision: false });

      const viaSdk = await client(gw)
        .messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 200, messages: user('one lookup [[tools]]'), tools: [{ name: 'lookup', input_schema: { type: 'object', properties: {} } }] })
        .finalMessage();
      expect(viaSdk.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'lookup', input: { query: expect.any(String) } });
    });

    test('tool results go back to Qwen as tool messages right after the call, errors marked, images kept', async () => {
      const message = await client(gw).messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 200,
        messages: [
          { role: 'user', content: 'run it' },
          { role: 'assistant', content: [{ type: 'text', text: 'Running.' }, { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }, { type: 'tool_use', id: 'toolu_2', name: 'Bash', input: { command: 'false' } }] },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'a.txt' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] },
              { type: 'tool_result', tool_use_id: 'toolu_2', content: 'exit 1', is_error: true },
              { type: 'text', text: 'what now?' },
            ],
          },
        ],
        tools: [{ name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
      });
      assertAnthropicSchema('Message', message);
      const sent = lastChatBody().messages as Json[];
      expect(sent.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'user']);
      expect(sent[2]).toMatchObject({ content: 'Running.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }, { id: 'toolu_2' }] });
      expect(sent[3]).toMatchObject({ role: 'tool', tool_call_id: 'toolu_1', content: 'a.txt' });
      expect(sent[4]).toMatchObject({ role: 'tool', tool_call_id: 'toolu_2', content: 'Error: exit 1' });
      expect(sent[5]!.content).toEqual([{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, { type: 'text', text: 'what now?' }]);
    });

    test('thinking: enabled with a budget reaches Qwen, and its reasoning comes back as signed thinking blocks', async () => {
      const message = await client(gw).messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 2000,
        thinking: { type: 'enabled', budget_tokens: 1500 },
        messages: user('think about it'),
      });
      assertAnthropicSchema('Message', message);
      expect(lastChatBody()).toMatchObject({ enable_thinking: true, thinking_budget: 1500 });
      const thinking = message.content[0];
      expect(thinking).toMatchObject({ type: 'thinking', thinking: expect.stringContaining('Thinking about') });
      expect((thinking as { signature: string }).signature).not.toBe('');
      expect(message.content[1]).toMatchObject({ type: 'text' });

      const res = await post(gw, { model: 'claude-sonnet-4-6', max_tokens: 2000, stream: true, thinking: { type: 'adaptive' }, messages: user('think in a stream') });
      const events = parseSse(await res.text());
      assertEventOrder(events);
      expect(events.some((e) => e.data.delta?.type === 'thinking_delta')).toBe(true);
      expect(events.some((e) => e.data.delta?.type === 'signature_delta')).toBe(true);

      // Claude Code asks for thinking with display "omitted": Qwen thinks, the text is not sent.
      const omitted = await post(gw, { model: 'claude-opus-5-5', max_tokens: 2000, stream: true, thinking: { type: 'adaptive', display: 'omitted' }, messages: user('think quietly') });
      const quiet = parseSse(await omitted.text());
      assertEventOrder(quiet);
      expect(lastChatBody()).toMatchObject({ enable_thinking: true });
      expect(quiet.some((e) => e.data.content_block?.type === 'thinking')).toBe(false);
      expect(quiet.filter((e) => e.data.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('')).toContain('think quietly');

      await client(gw).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 100, thinking: { type: 'disabled' }, messages: user('no thinking') });
      expect(lastChatBody()).toMatchObject({ enable_thinking: false });
    });

    test('images, base64 and URL, reach Qwen as image parts (and a model that can read them)', async () => {
      await client(gw).messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 100,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
              { type: 'text', text: 'what is this?' },
            ],
          },
        ],
      });
      const sent = lastChatBody();
      expect((sent.messages as Json[]).at(-1)!.content).toEqual([
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
        { type: 'text', text: 'what is this?' },
      ]);
    });

    test('count_tokens answers an estimate without calling Qwen', async () => {
      const before = chatCalls().length;
      const count = await client(gw).messages.countTokens({ model: 'claude-sonnet-4-6', messages: user('a'.repeat(400)), system: 'be brief' });
      assertAnthropicSchema('MessageTokensCount', count);
      expect(count.input_tokens).toBeGreaterThanOrEqual(100);
      expect(count.input_tokens).toBeLessThan(150);
      expect(chatCalls().length).toBe(before);
    });

    test('GET /v1/models with anthropic-version answers the Anthropic list, for the SDK', async () => {
      const page = await client(gw).models.list();
      expect(page.data.map((m) => m.id)).toContain('coder-model');
      const raw = await (await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': keys[0]!, 'anthropic-version': '2023-06-01' } })).json();
      expect(raw).toMatchObject({ has_more: false, first_id: 'coder-model', last_id: expect.any(String) });
      for (const model of raw.data) assertAnthropicSchema('ModelInfo', model);
      const one = await client(gw).models.retrieve('qwen3-coder-plus');
      assertAnthropicSchema('ModelInfo', one);
    });
  });

  describe('anthropic errors', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway({ KEEPALIVE_INTERVAL_MS: '100', UPSTREAM_IDLE_TIMEOUT_MS: '600' });
    });
    afterEach(() => harness.fake.setScenario({ dailyQuota: null, apiFault: 'none', resetAfterChunks: null, stallAfterChunks: null, maxInputTokens: null }));

    const expectAnthropicError = async (res: Response, status: number, type: string) => {
      expect(res.status).toBe(status);
      expect(res.headers.get('request-id')).toMatch(/^req_/);
      const body = await res.json();
      assertAnthropicSchema('ErrorResponse', body);
      expect(body.error.type).toBe(type);
      return body;
    };

    test('a missing or wrong key is an Anthropic 401, and the SDK raises AuthenticationError', async () => {
      const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: '{}' });
      await expectAnthropicError(res, 401, 'authentication_error');
      const error = await client(gw, 'sk-wrong').messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: user('x') }).catch((e) => e);
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      // Claude Code's ANTHROPIC_AUTH_TOKEN is sent as a Bearer token.
      const bearer = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${keys[1]}`, 'content-type': 'application/json' }, body: JSON.stringify({ max_tokens: 10, messages: user('bearer') }) });
      expect(bearer.status).toBe(200);
    });

    test('bad requests are Anthropic 400s that never reach Qwen', async () => {
      const before = chatCalls().length;
      for (const body of ['{not json', '[]', {}, { messages: [] }, { messages: [{ role: 'tool', content: 'x' }] }, { messages: user('x'), max_tokens: -1 }, { messages: [{ role: 'user', content: [{ text: 'no type' }] }] }]) {
        await expectAnthropicError(await post(gw, body), 400, 'invalid_request_error');
      }
      expect(chatCalls().length).toBe(before);
      const error = await client(gw).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [] }).catch((e) => e);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    });

    test('an unknown model is an Anthropic 404', async () => {
      const body = await expectAnthropicError(await post(gw, { model: 'llama-9', max_tokens: 10, messages: user('x') }), 404, 'not_found_error');
      expect(body.error.message).toContain('llama-9');
    });

    test("Qwen's context overflow reads as Anthropic's 'prompt is too long', which Claude Code compacts on", async () => {
      harness.fake.setScenario({ maxInputTokens: 50 });
      const body = await expectAnthropicError(await post(gw, { max_tokens: 10, messages: user('x'.repeat(2000)) }), 400, 'invalid_request_error');
      expect(body.error.message).toMatch(/^prompt is too long: (\d+) tokens > 50 maximum$/);
      expect(Number(/: (\d+) tokens/.exec(body.error.message)![1])).toBeGreaterThan(50);
    });

    test('Qwen overloaded (503) is Anthropic 529 overloaded_error; a Qwen 500 is api_error', async () => {
      harness.fake.setScenario({ apiFault: 503 });
      await expectAnthropicError(await post(gw, { max_tokens: 10, messages: user('x') }), 529, 'overloaded_error');
      harness.fake.setScenario({ apiFault: 500 });
      await expectAnthropicError(await post(gw, { max_tokens: 10, messages: user('x') }), 500, 'api_error');
    });

    test('quota: the request moves to the other account; when all are spent, 429 rate_limit_error with retry-after', async () => {
      const a = { ...harness.fake.mintCredentials(), id: 'a' };
      const b = { ...harness.fake.mintCredentials(), id: 'b' };
      const onlyA = await gateway({}, [a]);
      await client(onlyA).messages.create({ max_tokens: 10, model: 'claude-sonnet-4-6', messages: user('warm') });
      harness.fake.setScenario({ dailyQuota: 1 });
      const pool = await gateway({}, [a, b]);
      const moved = await client(pool).messages.create({ max_tokens: 10, model: 'claude-sonnet-4-6', messages: user('moved') });
      expect(moved.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('moved') });
      const res = await post(pool, { max_tokens: 10, messages: user('nobody') });
      const body = await expectAnthropicError(res, 429, 'rate_limit_error');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(body.error.message).toMatch(/quota/i);
    });

    test('a stream that breaks mid-way ends with event: error, never message_stop, and the SDK throws', async () => {
      harness.fake.setScenario({ resetAfterChunks: 3 });
      const res = await post(gw, { max_tokens: 100, stream: true, messages: user('break [[long:20]]') });
      expect(res.status).toBe(200);
      const events = parseSse(await res.text());
      expect(events[0]!.data.type).toBe('message_start');
      expect(events.at(-1)).toMatchObject({ event: 'error', data: { type: 'error', error: { type: 'api_error' } } });
      assertAnthropicSchema('ErrorResponse', events.at(-1)!.data);
      expect(events.some((e) => e.data.type === 'message_stop')).toBe(false);
      harness.fake.setScenario({ resetAfterChunks: 3 });
      await expect(client(gw).messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 100, messages: user('break [[long:20]]') }).finalMessage()).rejects.toThrow();
    });

    test('a stream whose Qwen headers come after the response-start deadline opens with message_start and pings in time', async () => {
      const patient = await gateway({ RESPONSE_START_TIMEOUT_MS: '150', KEEPALIVE_INTERVAL_MS: '100' });
      harness.fake.setScenario({ firstByteDelayMs: 700 });
      const res = await post(patient, { max_tokens: 100, stream: true, messages: user('tardy') });
      expect(res.status).toBe(200);
      const events = parseSse(await res.text());
      harness.fake.setScenario({ firstByteDelayMs: 0 });
      expect(events[0]!.data.type).toBe('message_start');
      expect(events[1]!.data.type).toBe('ping');
      assertEventOrder(events);
      expect(events.filter((e) => e.data.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('')).toContain('tardy');
    });

    test('a silent upstream gets event: ping, then an Anthropic timeout error in-band', async () => {
      harness.fake.setScenario({ stallAfterChunks: 1 });
      const res = await post(gw, { max_tokens: 100, stream: true, messages: user('stall') });
      const events = parseSse(await res.text());
      expect(events.some((e) => e.event === 'ping' && e.data.type === 'ping')).toBe(true);
      expect(events.at(-1)).toMatchObject({ event: 'error', data: { error: { type: 'timeout_error' } } });
      await harness.fake.waitFor((c) => c.openStreams === 0);
    });
  });
}
