import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { FakeQwen } from '../fake-qwen/index.ts';
import { useHarness } from './harness.ts';
import { assertOpenAISchema } from '../support/openai-schema.ts';
import { validateResponsesSchema } from '../support/responses-schema.ts';
import type { GatewayTarget, StartTarget } from './targets.ts';

type Json = Record<string, any>;

/**
 * The OpenAI Responses API (`/v1/responses`) end to end, on every host, driven by the official
 * SDK and by raw HTTP where the wire itself is the point (event lines, sequence numbers, the
 * connection closing after the terminal event). Every answer and every event is checked against
 * the Responses schemas.
 */
export function defineResponsesCases(start: StartTarget): void {
  const harness = useHarness(start);
  const KEY = harness.keys[0]!;
  let fake: FakeQwen;
  beforeAll(() => {
    fake = harness.fake;
  });
  const gateway = (env: Record<string, string> = {}, credentials?: object | object[]) => harness.gateway({ LOG_LEVEL: 'error', ...env }, credentials);
  const client = (target: GatewayTarget) => new OpenAI({ baseURL: `${target.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const post = (target: GatewayTarget, body: string | object, path = '/v1/responses') =>
    fetch(`${target.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const call = (target: GatewayTarget, method: string, path: string) => fetch(`${target.url}${path}`, { method, headers: { authorization: `Bearer ${KEY}` } });
  const { chatCalls } = harness;
  const lastChatBody = () => harness.lastChatBody() as Json;

  /** A whole SSE answer, read until the server closes it, parsed and checked event by event. */
  async function streamOf(target: GatewayTarget, body: object): Promise<{ events: Json[]; types: string[]; text: string }> {
    const res = await post(target, { ...body, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // text() resolves only when the server ends the stream.
    const text = await res.text();
    expect(text).not.toContain('[DONE]');
    const events = text
      .split('\n\n')
      .filter((frame) => frame.trim() !== '')
      .map((frame) => {
        const lines = frame.split('\n');
        const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length);
        const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice('data: '.length));
        expect(event).toBe(data.type);
        validateResponsesSchema('ResponseStreamEvent', data);
        return data as Json;
      });
    events.forEach((event, i) => {
      if (i > 0) expect(event.sequence_number).toBeGreaterThan(events[i - 1]!.sequence_number);
    });
    const types = events.map((e) => e.type as string);
    expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    // The terminal event is the last one: nothing follows it.
    expect(types.filter((t) => /^response\.(completed|failed|incomplete)$/.test(t))).toEqual([types.at(-1)]);
    return { events, types, text };
  }
  /** Stored records are written after the answer: wait until the store has it. */
  async function stored(target: GatewayTarget, id: string): Promise<Json> {
    for (let i = 0; i < 50; i++) {
      const res = await call(target, 'GET', `/v1/responses/${id}`);
      if (res.status === 200) return res.json();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${id} was never stored`);
  }

  describe('responses: answers', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway();
    });

    test('non-streaming: a Response the SDK reads output_text from; instructions are the system message', async () => {
      const response = await client(gw).responses.create({ model: 'qwen3-coder-flash', instructions: 'be brief', input: 'hello there', max_output_tokens: 500 });
      validateResponsesSchema('Response', response);
      expect(response.id).toMatch(/^resp_/);
      expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'qwen3-coder-flash', instructions: 'be brief', store: true });
      expect(response.output_text).toContain('hello there');
      expect(response.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number), input_tokens_details: { cached_tokens: 0 } });
      expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
      const sent = lastChatBody();
      expect(sent.model).toBe('qwen3-coder-flash');
      expect(sent.max_tokens).toBe(500);
      expect(sent.messages[0]).toMatchObject({ role: 'system' });
      expect(JSON.stringify(sent.messages[0])).toContain('be brief');
      expect(sent.messages.at(-1)).toMatchObject({ role: 'user' });
    });

    test('streaming: typed events in order with event lines and increasing sequence numbers; the connection closes after response.completed', async () => {
      const { types, events } = await streamOf(gw, { model: 'coder-model', input: 'stream me please' });
      expect(types).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        ...types.filter((t) => t === 'response.output_text.delta'),
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(types.filter((t) => t === 'response.output_text.delta').length).toBeGreaterThan(1);
      const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
      expect(text).toContain('stream me please');
      const completed = events.at(-1)!.response;
      expect(completed.output[0].content[0].text).toBe(text);
      expect(completed.usage.total_tokens).toBeGreaterThan(0);
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    });

    test('streaming through the SDK: events as typed objects, and the final response', async () => {
      const stream = client(gw).responses.stream({ model: 'coder-model', input: 'sdk stream' });
      const seen: string[] = [];
      for await (const event of stream) seen.push(event.type);
      const final = await stream.finalResponse();
      expect(seen).toContain('response.output_text.delta');
      expect(final.output_text).toContain('sdk stream');
      validateResponsesSchema('Response', final);
    });

    test('reasoning: effort turns on Qwen thinking, and the thinking comes back as a reasoning item, streamed as summary text', async () => {
      const response = await client(gw).responses.create({ model: 'coder-model', input: 'ponder this', reasoning: { effort: 'low', summary: 'auto' }, include: ['reasoning.encrypted_content'] });
      expect(lastChatBody()).toMatchObject({ enable_thinking: true, thinking_budget: 1024 });
      expect(lastChatBody()).not.toHaveProperty('reasoning');
      const reasoning = response.output.find((item) => item.type === 'reasoning') as Json;
      expect(reasoning.summary[0].text).toContain('Thinking about');
      expect(reasoning.encrypted_content).toBe('');
      expect(response.output_text).toContain('ponder this');

      const { events, types } = await streamOf(gw, { model: 'coder-model', input: 'ponder again', reasoning: { effort: 'high' } });
      expect(types.indexOf('response.reasoning_summary_text.delta')).toBeGreaterThan(-1);
      expect(types.indexOf('response.reasoning_summary_text.done')).toBeLessThan(types.indexOf('response.output_text.delta'));
      const summary = events.filter((e) => e.type === 'response.reasoning_summary_text.delta').map((e) => e.delta).join('');
      expect(summary).toContain('Thinking about');
      expect(events.at(-1)!.response.output.map((i: Json) => i.type)).toEqual(['reasoning', 'message']);
    });

    test('text.format json_schema reaches Qwen as response_format', async () => {
      await client(gw).responses.create({
        model: 'coder-model',
        input: 'json please',
        text: { format: { type: 'json_schema', name: 'answer', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } } } } },
      });
      expect(lastChatBody().response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } } } } });
    });
  });

  describe('responses: tools', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway();
    });
    const weather = { type: 'function' as const, name: 'get_weather', strict: true, parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false } };
    const applyPatch = { type: 'custom' as const, name: 'apply_patch', description: 'Edit files.', format: { type: 'grammar' as const, syntax: 'lark' as const, definition: 'start: "*** Begin Patch" /(.|\\n)*/' } };

    test('function tools both ways: a function_call out, its output back in as a tool message', async () => {
      const first = await client(gw).responses.create({ model: 'coder-model', input: 'weather in Paris [[tools]]', tools: [weather] });
      validateResponsesSchema('Response', first);
      const fc = first.output.find((item) => item.type === 'function_call') as Json;
      expect(fc).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
      expect(JSON.parse(fc.arguments)).toEqual({ query: 'weather in Paris' });
      expect(lastChatBody().tools[0].function).not.toHaveProperty('strict');

      const second = await client(gw).responses.create({
        model: 'coder-model',
        store: false,
        tools: [weather],
        input: [
          { role: 'user', content: 'weather in Paris' },
          { type: 'function_call', call_id: fc.call_id, name: 'get_weather', arguments: fc.arguments },
          { type: 'function_call_output', call_id: fc.call_id, output: 'sunny, 21 C' },
          { role: 'user', content: 'so?' },
        ],
      });
      expect(second.output_text).toContain('so?');
      expect(lastChatBody().messages.slice(-3)).toMatchObject([
        { role: 'assistant', tool_calls: [{ id: fc.call_id, function: { name: 'get_weather', arguments: fc.arguments } }] },
        { role: 'tool', tool_call_id: fc.call_id },
        { role: 'user' },
      ]);
    });

    test('function tools streamed: added, argument deltas, done with name and arguments', async () => {
      const { events } = await streamOf(gw, { model: 'coder-model', input: 'stream a call [[tools]]', tools: [weather] });
      const added = events.find((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call')!;
      const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
      const done = events.find((e) => e.type === 'response.function_call_arguments.done')!;
      expect(done).toMatchObject({ item_id: added.item.id, name: 'get_weather', arguments: deltas });
      expect(JSON.parse(deltas)).toEqual({ query: 'stream a call' });
      expect(events.at(-1)!.response.output).toMatchObject([{ type: 'function_call', call_id: added.item.call_id, arguments: deltas }]);
    });

    test('custom (freeform) tools both ways: offered as one string parameter, returned as custom_tool_call with the raw input', async () => {
      const first = await client(gw).responses.create({ model: 'coder-model', input: 'patch it [[tools]]', tools: [applyPatch] });
      validateResponsesSchema('Response', first);
      const offered = lastChatBody().tools[0].function;
      expect(offered.name).toBe('apply_patch');
      expect(offered.parameters).toMatchObject({ type: 'object', properties: { input: { type: 'string' } }, required: ['input'] });
      expect(offered.description).toContain('lark grammar');
      const ctc = first.output.find((item) => item.type === 'custom_tool_call') as Json;
      expect(ctc).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: 'patch it' });

      const { events } = await streamOf(gw, { model: 'coder-model', input: 'stream the patch [[tools]]', tools: [applyPatch] });
      expect(events.filter((e) => e.type === 'response.custom_tool_call_input.delta').map((e) => e.delta).join('')).toBe('stream the patch');
      expect(events.find((e) => e.type === 'response.custom_tool_call_input.done')!.input).toBe('stream the patch');

      await client(gw).responses.create({
        model: 'coder-model',
        store: false,
        tools: [applyPatch],
        input: [
          { role: 'user', content: 'patch it' },
          { type: 'custom_tool_call', call_id: ctc.call_id, name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' },
          { type: 'custom_tool_call_output', call_id: ctc.call_id, output: 'Done!' },
        ],
      });
      expect(lastChatBody().messages.slice(-2)).toMatchObject([
        { role: 'assistant', tool_calls: [{ id: ctc.call_id, function: { name: 'apply_patch', arguments: JSON.stringify({ input: '*** Begin Patch\n*** End Patch' }) } }] },
        { role: 'tool', tool_call_id: ctc.call_id, content: 'Done!' },
      ]);
    });

    test("Codex's own request (developer messages, namespace and hosted tools, include, prompt_cache_key, client_metadata) is served", async () => {
      const codex = JSON.parse(readFileSync(new URL('../fixtures/responses/codex-tool-loop-request.json', import.meta.url), 'utf8'));
      const { events } = await streamOf(gw, codex);
      expect(events.at(-1)!.type).toBe('response.completed');
      const sent = lastChatBody();
      expect(sent.messages.map((m: Json) => m.role)).not.toContain('developer');
      expect(sent.messages.filter((m: Json) => m.role === 'system')).toHaveLength(1);
      const names = sent.tools.map((t: Json) => t.function.name);
      expect(names).toContain('exec_command');
      expect(names).toContain('multi_agent_v1__close_agent');
      expect(sent.tools.every((t: Json) => t.type === 'function')).toBe(true);
      // The same prompt_cache_key keeps the same Qwen session.
      const session = sent.metadata.sessionId;
      await streamOf(gw, { ...codex, input: codex.input.slice(0, 4) });
      expect(lastChatBody().metadata.sessionId).toBe(session);
    });

    test('a namespaced function call comes back with its namespace', async () => {
      const response = await client(gw).responses.create({
        model: 'coder-model',
        input: 'agents [[tools]]',
        tools: [{ type: 'namespace', name: 'multi_agent_v1', description: 'agents', tools: [{ type: 'function', name: 'spawn_agent', parameters: { type: 'object', properties: {} } }] }] as never,
      });
      expect(response.output.find((i) => i.type === 'function_call')).toMatchObject({ namespace: 'multi_agent_v1', name: 'spawn_agent' });
    });
  });

  describe('responses: stored responses and previous_response_id', () => {
    test('store (the default) keeps the response: GET returns it, previous_response_id continues it, DELETE forgets it', async () => {
      const gw = await gateway();
      const first = await client(gw).responses.create({ model: 'coder-model', instructions: 'first rules', input: 'my name is Ada' });
      const got = await stored(gw, first.id);
      expect(got).toMatchObject({ id: first.id, object: 'response', status: 'completed' });
      expect(got.output).toEqual(JSON.parse(JSON.stringify(first.output)));
      validateResponsesSchema('Response', got);
      const viaSdk = await client(gw).responses.retrieve(first.id);
      expect(viaSdk.id).toBe(first.id);

      const second = await client(gw).responses.create({ model: 'coder-model', previous_response_id: first.id, input: 'what is my name?' });
      expect(second.previous_response_id).toBe(first.id);
      const sent = lastChatBody().messages as Json[];
      // The earlier turn is prepended; its instructions are not carried over.
      expect(JSON.stringify(sent)).not.toContain('first rules');
      expect(sent.slice(-3).map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
      expect(JSON.stringify(sent.at(-3))).toContain('my name is Ada');
      expect(JSON.stringify(sent.at(-2))).toContain('Echo: my name is Ada');

      // A chain: the third turn sees both earlier ones.
      await stored(gw, second.id);
      await client(gw).responses.create({ model: 'coder-model', previous_response_id: second.id, input: 'third' });
      expect((lastChatBody().messages as Json[]).filter((m) => m.role === 'user')).toHaveLength(3);
      const items = await (await call(gw, 'GET', `/v1/responses/${second.id}/input_items`)).json();
      expect(items).toMatchObject({ object: 'list', has_more: false });
      expect(items.data).toHaveLength(3);

      const deleted = await client(gw).responses.delete(first.id).then(() => call(gw, 'GET', `/v1/responses/${first.id}`));
      expect(deleted.status).toBe(404);
      assertOpenAISchema('ErrorResponse', await deleted.json());
      const again = await call(gw, 'DELETE', `/v1/responses/${first.id}`);
      expect(again.status).toBe(404);
    });

    test('a streamed answer is stored too', async () => {
      const gw = await gateway();
      const { events } = await streamOf(gw, { model: 'coder-model', input: 'stream and keep' });
      const id = events[0]!.response.id;
      const got = await stored(gw, id);
      expect(got.output).toEqual(events.at(-1)!.response.output);
    });

    test('an unknown previous_response_id is a 400 that says so, before Qwen is called', async () => {
      const gw = await gateway();
      const before = chatCalls().length;
      const error = await client(gw).responses.create({ model: 'coder-model', previous_response_id: 'resp_missing', input: 'x' }).catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.code).toBe('previous_response_not_found');
      expect(error.message).toMatch(/resp_missing.*not found/);
      expect(chatCalls().length).toBe(before);
    });

    test('a response past RESPONSES_STORE_TTL_MS is gone: GET is a 404, previous_response_id a 400 that says it may have expired', async () => {
      const gw = await gateway({ RESPONSES_STORE_TTL_MS: '400' });
      const response = await client(gw).responses.create({ model: 'coder-model', input: 'short-lived' });
      await stored(gw, response.id);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await call(gw, 'GET', `/v1/responses/${response.id}`)).status).toBe(404);
      const error = await client(gw).responses.create({ model: 'coder-model', previous_response_id: response.id, input: 'y' }).catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.message).toMatch(/expired/);
    });

    test('store: false keeps nothing', async () => {
      const gw = await gateway();
      const response = await client(gw).responses.create({ model: 'coder-model', input: 'forget me', store: false });
      expect((response as Json).store).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await call(gw, 'GET', `/v1/responses/${response.id}`)).status).toBe(404);
    });

    test('RESPONSES_STORE=off: nothing is stored, and previous_response_id gets a clear 400', async () => {
      const gw = await gateway({ RESPONSES_STORE: 'off' });
      const response = await client(gw).responses.create({ model: 'coder-model', input: 'x' });
      expect((response as Json).store).toBe(false);
      expect((await call(gw, 'GET', `/v1/responses/${response.id}`)).status).toBe(404);
      const error = await client(gw).responses.create({ model: 'coder-model', previous_response_id: response.id, input: 'y' }).catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.message).toMatch(/RESPONSES_STORE=off/);
    });
  });

  describe('responses: errors and upstream failures', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway({ UPSTREAM_IDLE_TIMEOUT_MS: '500', KEEPALIVE_INTERVAL_MS: '100' });
    });
    afterEach(() => fake.setScenario({ dailyQuota: 2000, resetAfterChunks: null, stallAfterChunks: null, firstByteDelayMs: 0, apiFault: 'none' }));

    test('bad input is an OpenAI-shaped 400 and never reaches Qwen; a missing key is a 401; an unknown model a 404', async () => {
      const before = chatCalls().length;
      for (const [body, pattern] of [
        ['{"input": [', /JSON/],
        ['{"input": 5}', /input/],
        ['{"model":"coder-model"}', /input/],
        ['{"input":"x","temperature":"hot"}', /temperature/],
        ['{"input":[{"role":"wizard","content":"x"}]}', /role/],
        ['{"input":[{"type":"function_call_output","output":"x"}]}', /call_id/],
      ] as const) {
        const res = await post(gw, body);
        expect(res.status).toBe(400);
        const error = await res.json();
        assertOpenAISchema('ErrorResponse', error);
        expect(error.error.message).toMatch(pattern);
      }
      expect((await fetch(`${gw.url}/v1/responses`, { method: 'POST', body: '{"input":"x"}' })).status).toBe(401);
      const missing = await client(gw).responses.create({ model: 'llama-9', input: 'x' }).catch((e) => e);
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
      expect(chatCalls().length).toBe(before);
    });

    test("quota: one spent account hands the request to the other; when all are spent, a 429 with Retry-After", async () => {
      const a = { ...fake.mintCredentials(), id: 'a' };
      const b = { ...fake.mintCredentials(), id: 'b' };
      const pool = await gateway({}, [a, b]);
      fake.setScenario({ dailyQuota: 0 });
      const error = await client(pool).responses.create({ model: 'coder-model', input: 'nobody' }).catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(0);

      const c = { ...fake.mintCredentials(), id: 'c' };
      const d = { ...fake.mintCredentials(), id: 'd' };
      const fresh = await gateway({}, [c, d]);
      fake.setScenario({ dailyQuota: 2000 });
      // Spend c's quota through a gateway that has only c.
      const onlyC = await gateway({}, [c]);
      await client(onlyC).responses.create({ model: 'coder-model', input: 'warm' });
      fake.setScenario({ dailyQuota: 1 });
      const from = chatCalls().length;
      const { events } = await streamOf(fresh, { model: 'coder-model', input: 'moved on' });
      expect(events.at(-1)!.type).toBe('response.completed');
      expect(chatCalls().slice(from).map((r) => r.headers.authorization)).toEqual([`Bearer ${c.access_token}`, `Bearer ${d.access_token}`]);
    });

    test('a whole answer slower than the response-start deadline still arrives as a Response; a failure after that commit is a failed Response', async () => {
      const patient = await gateway({ RESPONSE_START_TIMEOUT_MS: '150' });
      fake.setScenario({ firstByteDelayMs: 700 });
      const slow = await client(patient).responses.create({ model: 'coder-model', input: 'take your time' });
      validateResponsesSchema('Response', slow);
      expect(slow.output_text).toContain('take your time');
      fake.setScenario({ apiFault: 500 });
      const res = await post(patient, { model: 'coder-model', input: 'fail late' });
      expect(res.status).toBe(200);
      const failed = await res.json();
      validateResponsesSchema('Response', failed);
      expect(failed).toMatchObject({ object: 'response', status: 'failed', error: { code: 'server_error', message: expect.any(String) } });
    });

    test('a stream that breaks mid-way ends with response.failed, the last event, and the connection closes', async () => {
      fake.setScenario({ resetAfterChunks: 3 });
      const { events, types } = await streamOf(gw, { model: 'coder-model', input: 'break [[long:20]]' });
      expect(types.at(-1)).toBe('response.failed');
      expect(types).not.toContain('response.completed');
      expect(events.at(-1)!.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: expect.any(String) } });
      // The SDK surfaces it as an event, not as a hang.
      const stream = await client(gw).responses.create({ model: 'coder-model', input: 'break again [[long:20]]', stream: true });
      const seen: string[] = [];
      for await (const event of stream) seen.push(event.type);
      expect(seen.at(-1)).toBe('response.failed');
    });

    test('a silent upstream: response.in_progress keep-alives (numbered like every event), then response.failed', async () => {
      fake.setScenario({ stallAfterChunks: 2 });
      const { events, types } = await streamOf(gw, { model: 'coder-model', input: 'stall [[long:10]]' });
      const firstDelta = types.indexOf('response.output_text.delta');
      expect(firstDelta).toBeGreaterThan(0);
      expect(types.slice(firstDelta).filter((t) => t === 'response.in_progress').length).toBeGreaterThanOrEqual(2);
      expect(types.at(-1)).toBe('response.failed');
      expect(events.at(-1)!.response.error.message).toMatch(/UPSTREAM_IDLE_TIMEOUT_MS/);
      await fake.waitFor((c) => c.openStreams === 0);
    });
  });
}
