import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { FakeQwen } from '../fake-qwen/index.ts';
import { useHarness } from './harness.ts';
import { assertOpenAISchema } from '../support/openai-schema.ts';
import type { GatewayTarget, StartTarget } from './targets.ts';

/**
 * The end-to-end cases, one list for every host: each target (the Worker in workerd, the Vercel
 * functions in edge-runtime) runs them unchanged against the fake Qwen, driven by the official
 * OpenAI SDK, and every answer is checked against OpenAI's own schema.
 */
export function defineGatewayCases(start: StartTarget): void {
  const harness = useHarness(start);
  const KEYS = harness.keys;
  const { gateway, chatCalls, lastChatBody } = harness;
  let fake: FakeQwen;
  beforeAll(() => {
    fake = harness.fake;
  });
  const client = (target: GatewayTarget, apiKey = KEYS[0]!) =>
    new OpenAI({ baseURL: `${target.url}/v1`, apiKey, maxRetries: 0 });
  /** A raw POST to the chat endpoint, for what the SDK hides (status, headers, the SSE text). */
  const postChat = (target: GatewayTarget, body: string | object, init: RequestInit = {}) =>
    fetch(`${target.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS[0]}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...init,
    });

  describe('health, models, routing', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway();
    });

    test('GET /health answers without a key and says nothing secret', async () => {
      const res = await fetch(`${gw.url}/health`);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({ status: 'ok', version: expect.any(String), uptime: expect.any(Number) });
      expect(Object.keys(body).sort()).toEqual(['auth', 'status', 'uptime', 'version']);
      expect(body.auth).toBe('key');
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    });

    test('lists the OAuth models in OpenAI shape', async () => {
      const page = await client(gw).models.list();
      expect(page.data.map((m) => m.id)).toEqual(['coder-model', 'vision-model', 'qwen3-coder-plus', 'qwen3-coder-flash']);
      const raw = await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${KEYS[0]}` } })).json();
      assertOpenAISchema('ListModelsResponse', raw);
      for (const model of raw.data) expect(model.owned_by).toBe('qwen');
    });

    test('retrieves one model, and answers an unknown one with an OpenAI 404', async () => {
      const model = await client(gw).models.retrieve('qwen3-coder-plus');
      assertOpenAISchema('Model', { ...model });
      const res = await fetch(`${gw.url}/v1/models/gpt-17`, { headers: { authorization: `Bearer ${KEYS[0]}` } });
      expect(res.status).toBe(404);
      const body = await res.json();
      assertOpenAISchema('ErrorResponse', body);
      expect(body.error.code).toBe('model_not_found');
    });

    test('unknown routes get a 404 and wrong methods a 405, OpenAI-shaped', async () => {
      const missing = await fetch(`${gw.url}/v1/embeddingz`, { headers: { authorization: `Bearer ${KEYS[0]}` } });
      expect(missing.status).toBe(404);
      assertOpenAISchema('ErrorResponse', await missing.json());
      const wrong = await fetch(`${gw.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${KEYS[0]}` } });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toContain('POST');
      assertOpenAISchema('ErrorResponse', await wrong.json());
    });

    test('a malformed %-escape in a model id is a 400 in OpenAI shape, not a 500', async () => {
      const res = await fetch(`${gw.url}/v1/models/%E0%A4%A`, { headers: { authorization: `Bearer ${KEYS[0]}` } });
      expect(res.status).toBe(400);
      const body = await res.json();
      assertOpenAISchema('ErrorResponse', body);
      expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'invalid_model_id' });
      // A well-formed escape still decodes.
      expect((await fetch(`${gw.url}/v1/models/qwen3%2Dcoder-plus`, { headers: { authorization: `Bearer ${KEYS[0]}` } })).status).toBe(200);
    });

    test('HEAD works wherever GET does, with GET\'s status and headers and no body', async () => {
      const auth = { authorization: `Bearer ${KEYS[0]}` };
      for (const [path, headers, status] of [
        ['/health', {}, 200],
        ['/v1/models', auth, 200],
        ['/v1/models/coder-model', auth, 200],
        ['/v1/models/gpt-17', auth, 404],
        ['/v1/models', {}, 401],
        ['/nowhere', {}, 404],
      ] as const) {
        const get = await fetch(`${gw.url}${path}`, { headers });
        const head = await fetch(`${gw.url}${path}`, { method: 'HEAD', headers });
        expect([path, head.status]).toEqual([path, status]);
        expect(head.status).toBe(get.status);
        expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
        expect(head.headers.get('x-request-id')).toMatch(/^req_/);
        expect(await head.text()).toBe('');
        expect((await get.text()).length).toBeGreaterThan(0);
      }
      // Where GET is not served, neither is HEAD; GET routes announce HEAD in Allow.
      expect((await fetch(`${gw.url}/v1/chat/completions`, { method: 'HEAD', headers: auth })).status).toBe(405);
      const post = await fetch(`${gw.url}/health`, { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    });

    test('CORS: preflight on every route, and CORS headers on answers', async () => {
      for (const path of ['/v1/chat/completions', '/v1/models', '/health', '/nowhere']) {
        const res = await fetch(`${gw.url}${path}`, {
          method: 'OPTIONS',
          headers: { origin: 'https://chat.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-stainless-os' },
        });
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(res.headers.get('access-control-allow-methods')).toContain('POST');
        expect(res.headers.get('access-control-allow-headers')).toContain('x-stainless-os');
      }
      const res = await fetch(`${gw.url}/v1/models`, { headers: { origin: 'https://chat.example', authorization: `Bearer ${KEYS[1]}` } });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
    });
  });

  describe('client API keys', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway();
    });

    test('a missing or wrong key is a 401 the SDK reports as such, and Qwen is never called', async () => {
      const before = chatCalls().length;
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(401);
      assertOpenAISchema('ErrorResponse', await res.json());
      await expect(client(gw, 'sk-wrong').chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'hi' }] }))
        .rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      expect(chatCalls().length).toBe(before);
    });

    test('every configured key works, as Bearer or as x-api-key', async () => {
      const viaSdk = await client(gw, KEYS[1]).models.list();
      expect(viaSdk.data.length).toBeGreaterThan(0);
      const viaHeader = await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': KEYS[0]! } });
      expect(viaHeader.status).toBe(200);
    });
  });

  describe('chat completions', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway();
    });

    test('non-streaming: an OpenAI completion, with the requested model honoured', async () => {
      const completion = await client(gw).chat.completions.create({
        model: 'qwen3-coder-flash',
        messages: [{ role: 'user', content: 'hello there' }],
      });
      expect(completion.choices[0]?.message.content).toContain('hello there');
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.usage?.total_tokens).toBeGreaterThan(0);
      assertOpenAISchema('CreateChatCompletionResponse', completion);
      expect(lastChatBody().model).toBe('qwen3-coder-flash');
    });

    test('the default model is used when a request names none', async () => {
      const res = await postChat(gw, { messages: [{ role: 'user', content: 'no model' }] });
      expect(res.status).toBe(200);
      expect(lastChatBody().model).toBe('coder-model');
    });

    test('the OpenAI surface reaches Qwen: tools, tool_choice, stop, seed, response_format, top_p, penalties, user, max_completion_tokens', async () => {
      const surface: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {
        tool_choice: 'auto',
        stop: ['END'],
        seed: 7,
        response_format: { type: 'json_object' },
        top_p: 0.5,
        presence_penalty: 0.1,
        frequency_penalty: 0.2,
        user: 'u-1',
        temperature: 0.3,
      };
      await client(gw).chat.completions.create({
        model: 'coder-model',
        messages: [{ role: 'user', content: 'surface' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
        max_completion_tokens: 300,
        ...surface,
      });
      expect(lastChatBody()).toMatchObject({ ...surface, max_tokens: 300 });
      expect((lastChatBody().tools as unknown[]).length).toBe(1);
      expect(lastChatBody()).not.toHaveProperty('max_completion_tokens');
    });

    test('agent histories are valid input: tool, developer and function roles, null content with tool_calls, image parts, nulls', async () => {
      const completion = await client(gw).chat.completions.create({
        model: 'coder-model',
        messages: [
          { role: 'developer', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'result' },
          { role: 'function', name: 'f', content: 'legacy' } as never,
          { role: 'user', content: 'and now?' },
        ],
        temperature: null,
        max_tokens: null,
        stop: null,
      } as never);
      expect(completion.choices[0]?.message.content).toBeTruthy();
      // Qwen accepts system, user, assistant and tool only.
      const sent = lastChatBody().messages as Array<Record<string, unknown>>;
      expect(sent.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'user']);
      expect(sent[2]?.content).toBeNull();
      expect(sent[1]?.content).toEqual([{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }]);
    });

    test('a tool call comes back as tool_calls with finish_reason "tool_calls"', async () => {
      const completion = await client(gw).chat.completions.create({
        model: 'coder-model',
        messages: [{ role: 'user', content: 'weather please [[tools]]' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
      });
      assertOpenAISchema('CreateChatCompletionResponse', completion);
      expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
      expect(completion.choices[0]?.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: expect.any(String) } });
    });

    test('streaming: every chunk is an OpenAI chunk, the finish chunk arrives, and no usage chunk unless asked', async () => {
      const stream = await client(gw).chat.completions.create({
        model: 'coder-model',
        messages: [{ role: 'user', content: 'stream me' }],
        stream: true,
      });
      let text = '';
      let finish: string | null | undefined;
      let usageChunks = 0;
      for await (const chunk of stream) {
        assertOpenAISchema('CreateChatCompletionStreamResponse', chunk);
        if (chunk.choices.length === 0) usageChunks++;
        text += chunk.choices[0]?.delta.content ?? '';
        finish ??= chunk.choices[0]?.finish_reason;
      }
      expect(text).toContain('stream me');
      expect(finish).toBe('stop');
      expect(usageChunks).toBe(0);
      expect(lastChatBody().stream_options).toEqual({ include_usage: true });
    });

    test('streaming with include_usage: the usage-only chunk comes last', async () => {
      const stream = await client(gw).chat.completions.create({
        model: 'coder-model',
        messages: [{ role: 'user', content: 'count me' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage?.total_tokens).toBeGreaterThan(0);
      expect(chunks.slice(0, -1).some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    });

    test('SSE answers carry the headers that stop buffering in between', async () => {
      const res = await postChat(gw, { model: 'coder-model', stream: true, messages: [{ role: 'user', content: 'h' }] });
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
      expect(res.headers.get('x-accel-buffering')).toBe('no');
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      // The gateway's own cost, visible to operators in production (and in browsers' dev tools).
      expect(res.headers.get('server-timing')).toMatch(/auth;dur=[\d.]+, token;dur=[\d.]+, qwen;dur=[\d.]+, gateway;dur=[\d.]+/);
      const text = await res.text();
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    });
  });

  describe('bad input never reaches Qwen and never yields a 5xx', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway({ MAX_BODY_BYTES: '4096' });
    });
    const cases: Array<[string, string, RegExp]> = [
      ['invalid JSON', '{"messages": [', /JSON/],
      ['an empty body', '', /empty/],
      ['a body that is not an object', '[1,2]', /object/],
      ['missing messages', '{"model":"coder-model"}', /messages/],
      ['empty messages', '{"messages":[]}', /messages/],
      ['messages not an array', '{"messages":"hi"}', /messages/],
      ['a message that is not an object', '{"messages":["hi"]}', /messages\[0\]/],
      ['an unknown role', '{"messages":[{"role":"wizard","content":"hi"}]}', /role/],
      ['a missing role', '{"messages":[{"content":"hi"}]}', /role/],
      ['user content of the wrong type', '{"messages":[{"role":"user","content":42}]}', /content/],
      ['user content missing', '{"messages":[{"role":"user"}]}', /content/],
      ['a content part without type', '{"messages":[{"role":"user","content":[{"text":"x"}]}]}', /content\[0\]/],
      ['model of the wrong type', '{"model":5,"messages":[{"role":"user","content":"hi"}]}', /model/],
      ['an empty model', '{"model":"","messages":[{"role":"user","content":"hi"}]}', /model/],
      ['stream of the wrong type', '{"stream":"yes","messages":[{"role":"user","content":"hi"}]}', /stream/],
      ['temperature of the wrong type', '{"temperature":"hot","messages":[{"role":"user","content":"hi"}]}', /temperature/],
      ['temperature out of range', '{"temperature":7,"messages":[{"role":"user","content":"hi"}]}', /temperature/],
      ['negative max_tokens', '{"max_tokens":-1,"messages":[{"role":"user","content":"hi"}]}', /max_tokens/],
      ['fractional max_completion_tokens', '{"max_completion_tokens":1.5,"messages":[{"role":"user","content":"hi"}]}', /max_completion_tokens/],
      ['tools that are not tools', '{"tools":[{"type":"function"}],"messages":[{"role":"user","content":"hi"}]}', /tools\[0\]/],
    ];
    for (const [name, body, pattern] of cases) {
      test(name, async () => {
        const before = chatCalls().length;
        const res = await postChat(gw, body);
        expect(res.status).toBe(400);
        const error = await res.json();
        assertOpenAISchema('ErrorResponse', error);
        expect(error.error.type).toBe('invalid_request_error');
        expect(error.error.message).toMatch(pattern);
        expect(chatCalls().length).toBe(before);
      });
    }

    test('an oversized body is refused with a 413', async () => {
      const before = chatCalls().length;
      const res = await postChat(gw, { messages: [{ role: 'user', content: 'x'.repeat(10_000) }] });
      expect(res.status).toBe(413);
      expect((await res.json()).error.message).toMatch(/MAX_BODY_BYTES/);
      expect(chatCalls().length).toBe(before);
    });

    test('the SDK surfaces a bad request as BadRequestError', async () => {
      await expect(client(gw).chat.completions.create({ model: 'coder-model', messages: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    });
  });

  describe('token lifecycle', () => {
    afterEach(() => fake.setScenario({ refreshLatencyMs: 0 }));

    test('an expired access token is refreshed once, then served from memory', async () => {
      const creds = { ...fake.mintCredentials(), expiry_date: Date.now() - 1_000 };
      const gw = await gateway({}, creds);
      const before = fake.counters.refreshCalls;
      const first = await client(gw).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'one' }] });
      expect(first.choices[0]?.message.content).toContain('one');
      expect(fake.counters.refreshCalls).toBe(before + 1);
      await client(gw).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'two' }] });
      expect(fake.counters.refreshCalls).toBe(before + 1);
      const refresh = fake.requests.filter((r) => r.server === 'oauth' && r.path === '/api/v1/oauth2/token').at(-1)!;
      expect(refresh.headers['user-agent']).toMatch(/^QwenCode\//);
      expect(refresh.headers['content-type']).toBe('application/x-www-form-urlencoded');
    });

    test('concurrent requests on an expired token share one refresh', async () => {
      fake.setScenario({ refreshLatencyMs: 300 });
      const creds = { ...fake.mintCredentials(), expiry_date: Date.now() - 1_000 };
      const gw = await gateway({}, creds);
      const before = fake.counters.refreshCalls;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          client(gw).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: `c${i}` }] }),
        ),
      );
      expect(results.every((r) => r.choices[0]?.message.content)).toBe(true);
      expect(fake.counters.refreshCalls).toBe(before + 1);
    });

    test('a 401 from Qwen forces one refresh and the request is retried once', async () => {
      const creds = fake.mintCredentials();
      const gw = await gateway({}, creds);
      await client(gw).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'warm' }] });
      fake.revoke({ access_token: creds.access_token });
      const before = fake.counters.refreshCalls;
      const completion = await client(gw).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'after revoke' }] });
      expect(completion.choices[0]?.message.content).toContain('after revoke');
      expect(fake.counters.refreshCalls).toBe(before + 1);
    });

    test('a refused refresh is a 503 that tells the operator to log in again, and the SDK does not retry it', async () => {
      const creds = { ...fake.mintCredentials(), expiry_date: Date.now() - 1_000 };
      fake.revoke({ refresh_token: creds.refresh_token });
      const gw = await gateway({}, creds);
      const res = await postChat(gw, { messages: [{ role: 'user', content: 'x' }] });
      expect(res.status).toBe(503);
      expect(res.headers.get('x-should-retry')).toBe('false');
      const body = await res.json();
      assertOpenAISchema('ErrorResponse', body);
      expect(body.error).toMatchObject({ type: 'server_error', code: 'qwen_credentials_invalid' });
      expect(body.error.message).toMatch(/npm run login/);
      expect(JSON.stringify(body)).not.toContain(creds.refresh_token);
    });

    test('missing credentials: 503 naming QWEN_CLI_AUTH, while /health still answers', async () => {
      const gw = await harness.startRaw({ QWEN_OAUTH_BASE_URL: fake.oauthUrl, LOG_LEVEL: 'error' });
      expect((await fetch(`${gw.url}/health`)).status).toBe(200);
      const res = await postChat(gw, { messages: [{ role: 'user', content: 'x' }] }, { headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.error).toMatchObject({ type: 'server_error', code: 'qwen_credentials_missing' });
      // API keys first: the OAuth free tier is gone, and most people hold a key.
      expect(body.error.message).toMatch(/^No Qwen credentials are configured\. Set QWEN_API_KEY .* QWEN_CLI_AUTH/);
    });

    test('malformed credentials: 503 gateway_misconfigured naming QWEN_CLI_AUTH, never a stack trace', async () => {
      const gw = await harness.startRaw({ QWEN_CLI_AUTH: '{"access_token": "x"', LOG_LEVEL: 'error' });
      const res = await postChat(gw, { messages: [{ role: 'user', content: 'x' }] }, { headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(503);
      const body = await res.json();
      assertOpenAISchema('ErrorResponse', body);
      expect(body.error.code).toBe('gateway_misconfigured');
      expect(body.error.message).toContain('QWEN_CLI_AUTH is not valid JSON; accepted:');
      expect(body.error.message).not.toMatch(/at .*\.(ts|js):\d+/);
    });

    test('an unknown QWEN_PROVIDER: 503 gateway_misconfigured listing the providers; /health reports it', async () => {
      const gw = await gateway({ QWEN_API_KEY: 'sk-some-key', QWEN_PROVIDER: 'dashscop', LOG_LEVEL: 'error' });
      const res = await postChat(gw, { model: 'coder-model', messages: [{ role: 'user', content: 'x' }] });
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.error).toMatchObject({ type: 'server_error', code: 'gateway_misconfigured' });
      expect(body.error.message).toMatch(/QWEN_PROVIDER="dashscop" is not a known provider; accepted values: .*dashscope, dashscope-intl/);
      const health = await fetch(`${gw.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'misconfigured', misconfigured: ['QWEN_PROVIDER'] });
    });
  });

  describe('a pool of accounts', () => {
    afterEach(() => fake.setScenario({ dailyQuota: 2000 }));
    const bearerOf = (r: { headers: Record<string, string> }) => r.headers.authorization?.replace(/^Bearer /, '');
    const ask = (gw: GatewayTarget, text: string) =>
      client(gw).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: text }] });

    test('requests are spread over the accounts in turn', async () => {
      const a = { ...fake.mintCredentials(), id: 'a' };
      const b = { ...fake.mintCredentials(), id: 'b' };
      const gw = await gateway({}, [a, b]);
      const from = chatCalls().length;
      for (let i = 0; i < 4; i++) await ask(gw, `spread ${i}`);
      const used = chatCalls().slice(from).map(bearerOf);
      expect(used.filter((t) => t === a.access_token)).toHaveLength(2);
      expect(used.filter((t) => t === b.access_token)).toHaveLength(2);
    });

    test("quota on one account moves its requests to the other at once; when all are spent, 429 with Retry-After", async () => {
      const a = { ...fake.mintCredentials(), id: 'a' };
      const b = { ...fake.mintCredentials(), id: 'b' };
      // Spend two of A's requests first, through a gateway that has only A.
      const onlyA = await gateway({}, [a]);
      await ask(onlyA, 'warm 1');
      await ask(onlyA, 'warm 2');
      fake.setScenario({ dailyQuota: 2 });
      const gw = await gateway({ ADMIN_API_KEY: 'sk-admin' }, [a, b]);
      const from = chatCalls().length;
      const first = await ask(gw, 'after quota');
      expect(first.choices[0]?.message.content).toContain('after quota');
      const tried = chatCalls().slice(from).map(bearerOf);
      expect(tried).toEqual([a.access_token, b.access_token]);
      // A is resting now: B serves without A being asked again.
      await ask(gw, 'b again');
      expect(chatCalls().slice(from + 2).map(bearerOf)).toEqual([b.access_token]);
      const status = await (await fetch(`${gw.url}/v1/status`, { headers: { authorization: 'Bearer sk-admin' } })).json();
      const byId = Object.fromEntries(status.accounts.map((x: { id: string }) => [x.id, x]));
      expect(byId.a).toMatchObject({ state: 'cooling_down', cooldownUntil: expect.stringMatching(/T16:00:00\.000Z$/) });
      expect(byId.b).toMatchObject({ state: 'ok', requestsToday: 2 });
      // B's quota is spent too: nobody can serve.
      const error = await ask(gw, 'nobody').catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    test("an in-band throttle at the start of Qwen's stream is a real 429 to the client, or moves to another account", async () => {
      const alone = await gateway({}, [{ ...fake.mintCredentials(), id: 'solo' }]);
      fake.setScenario({ sseErrorFrame: true, streamFaultAfterChunks: 0, faultTimes: { sseErrorFrame: 1 } });
      const error = await client(alone).chat.completions.create({ model: 'coder-model', stream: true, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(error.code).toBe('Throttling.AllocationQuota');

      const a = { ...fake.mintCredentials(), id: 'a' };
      const b = { ...fake.mintCredentials(), id: 'b' };
      const pool = await gateway({}, [a, b]);
      fake.setScenario({ sseErrorFrame: true, streamFaultAfterChunks: 0, faultTimes: { sseErrorFrame: 1 } });
      const from = chatCalls().length;
      const stream = await client(pool).chat.completions.create({ model: 'coder-model', stream: true, messages: [{ role: 'user', content: 'moved on' }] });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toContain('moved on');
      expect(chatCalls().slice(from).map(bearerOf)).toEqual([a.access_token, b.access_token]);
      fake.setScenario({ sseErrorFrame: false });
    });

    test('a dead refresh token on one account: the other serves, and the status page says which needs a new login', async () => {
      const a = { ...fake.mintCredentials(), id: 'a', expiry_date: Date.now() - 1_000 };
      const b = { ...fake.mintCredentials(), id: 'b' };
      fake.revoke({ refresh_token: a.refresh_token });
      const gw = await gateway({ ADMIN_API_KEY: 'sk-admin' }, [a, b]);
      for (let i = 0; i < 3; i++) expect((await ask(gw, `still served ${i}`)).choices[0]?.message.content).toContain('still served');
      const denied = await fetch(`${gw.url}/v1/status`, { headers: { authorization: `Bearer ${KEYS[0]}` } });
      expect(denied.status).toBe(401);
      const res = await fetch(`${gw.url}/admin/status`, { headers: { authorization: 'Bearer sk-admin' } });
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const secret of [a.access_token, a.refresh_token, b.access_token, b.refresh_token]) expect(text).not.toContain(secret);
      const status = JSON.parse(text);
      const byId = Object.fromEntries(status.accounts.map((x: { id: string }) => [x.id, x]));
      expect(byId.a).toMatchObject({ state: 'needs_relogin', reason: expect.stringMatching(/login/) });
      expect(byId.b).toMatchObject({ state: 'ok', accessTokenExpiresAt: expect.any(String) });
    });

    test('when every account needs a new login: 503 qwen_credentials_invalid, not retried by the SDK', async () => {
      const a = { ...fake.mintCredentials(), id: 'a', expiry_date: Date.now() - 1_000 };
      fake.revoke({ refresh_token: a.refresh_token });
      const gw = await gateway({}, [a]);
      for (let i = 0; i < 2; i++) {
        const error = await ask(gw, 'dead').catch((e) => e);
        expect(error).toBeInstanceOf(OpenAI.InternalServerError);
        expect(error.status).toBe(503);
        expect(error.code).toBe('qwen_credentials_invalid');
        expect(error.headers.get('x-should-retry')).toBe('false');
      }
    });
  });

  describe('models and Qwen API keys', () => {
    test('names clients hard-code are mapped; unknown models get a 404 before Qwen is called', async () => {
      const gw = await gateway({ MODEL_ALIASES: '{"my-coder":"qwen3-coder-plus"}' });
      await client(gw).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'alias' }] });
      expect(lastChatBody().model).toBe('coder-model');
      await client(gw).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'alias' }] });
      expect(lastChatBody().model).toBe('qwen3-coder-flash');
      await client(gw).chat.completions.create({ model: 'my-coder', messages: [{ role: 'user', content: 'alias' }] });
      expect(lastChatBody().model).toBe('qwen3-coder-plus');
      const before = chatCalls().length;
      const error = await client(gw).chat.completions.create({ model: 'llama-3', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error.code).toBe('model_not_found');
      expect(chatCalls().length).toBe(before);
    });

    test('a Qwen API key is served with the same features, without the OAuth-only headers', async () => {
      const key = fake.mintCredentials().access_token;
      const gw = await harness.startRaw({ QWEN_API_KEY: key, OPENAI_BASE_URL: `${fake.apiUrl}/v1`, OPENAI_MODELS: 'qwen3-coder-plus,qwen3-coder-flash', OPENAI_API_KEY: KEYS[0]!, LOG_LEVEL: 'warn' });
      const models = await client(gw).models.list();
      expect(models.data.map((m) => m.id)).toEqual(['qwen3-coder-plus', 'qwen3-coder-flash']);
      // No model named: the default for the keys' models is used.
      const stream = await client(gw).chat.completions.create({ messages: [{ role: 'user', content: 'by key' }], stream: true } as never as OpenAI.ChatCompletionCreateParamsStreaming);
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toContain('by key');
      const sent = chatCalls().at(-1)!;
      expect(sent.headers.authorization).toBe(`Bearer ${key}`);
      expect(sent.headers['x-dashscope-authtype']).toBeUndefined();
      expect((sent.json as { model: string }).model).toBe('qwen3-coder-plus');
    });
  });

  describe("speaking Qwen like Qwen Code, and hiding Qwen's quirks", () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway();
    });
    afterEach(() =>
      fake.setScenario({ thinkTagLeak: false, toolIndexCollision: false, errorFinish: false, sseErrorFrame: false, noDone: false, explicitCacheUsage: false, sseSplit: null, sseCrlf: false, sseNoSpace: false, sseComments: false }),
    );
    async function collect(request: Omit<OpenAI.ChatCompletionCreateParamsStreaming, 'stream' | 'model'> & { model?: string }) {
      const stream = await client(gw).chat.completions.create({ model: 'coder-model', ...request, stream: true });
      let content = '';
      let reasoning = '';
      const calls: Record<number, { id?: string; name?: string; args: string }> = {};
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) {
        assertOpenAISchema('CreateChatCompletionStreamResponse', chunk);
        chunks.push(chunk);
        const delta = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string }) | undefined;
        content += delta?.content ?? '';
        reasoning += delta?.reasoning_content ?? '';
        for (const call of delta?.tool_calls ?? []) {
          const slot = (calls[call.index] ??= { args: '' });
          slot.id ??= call.id;
          slot.name ??= call.function?.name;
          slot.args += call.function?.arguments ?? '';
        }
      }
      return { content, reasoning, calls, chunks, finish: chunks.map((c) => c.choices[0]?.finish_reason).find(Boolean) };
    }

    test('Qwen receives what Qwen Code sends: its headers, metadata, cache_control, include_usage', async () => {
      await collect({ messages: [{ role: 'system', content: 'be terse' }, { role: 'user', content: 'headers' }] });
      const sent = chatCalls().at(-1)!;
      expect(sent.headers['user-agent']).toMatch(/^QwenCode\/\d+\.\d+\.\d+ \(/);
      expect(sent.headers['x-dashscope-useragent']).toBe(sent.headers['user-agent']);
      expect(sent.headers['x-dashscope-cachecontrol']).toBe('enable');
      expect(sent.headers['x-dashscope-authtype']).toBe('qwen-oauth');
      expect(sent.headers.accept).toBe('text/event-stream');
      const body = sent.json as Record<string, any>;
      expect(body.metadata).toMatchObject({ sessionId: expect.any(String), promptId: expect.any(String) });
      expect(body.stream_options).toEqual({ include_usage: true });
      expect(body.messages[0]).toMatchObject({ role: 'system', content: [{ type: 'text', text: 'be terse', cache_control: { type: 'ephemeral' } }] });
      expect(body.messages.at(-1).content.at(-1).cache_control).toEqual({ type: 'ephemeral' });
    });

    test('max_tokens above the model limit is clamped instead of refused', async () => {
      const completion = await client(gw).chat.completions.create({ model: 'vision-model', max_tokens: 100_000, messages: [{ role: 'user', content: 'clamp' }] });
      expect(completion.choices[0]?.message.content).toContain('clamp');
      expect(lastChatBody().max_tokens).toBe(8192);
    });

    test('reasoning_effort maps to enable_thinking / thinking_budget, and reasoning reaches the client', async () => {
      const result = await collect({ messages: [{ role: 'user', content: 'ponder' }], reasoning_effort: 'low' });
      expect(lastChatBody()).toMatchObject({ enable_thinking: true, thinking_budget: 1024 });
      expect(lastChatBody()).not.toHaveProperty('reasoning_effort');
      expect(result.reasoning).toContain('ponder');
      expect(result.content).toContain('ponder');
    });

    test('<think> leaked into content is moved to reasoning_content', async () => {
      fake.setScenario({ thinkTagLeak: true });
      const result = await collect({ messages: [{ role: 'user', content: 'leak [[think]]' }] });
      expect(result.content).not.toMatch(/<\/?think>/);
      expect(result.reasoning).toContain('Thinking about');
      expect(result.content).toContain('leak');
    });

    test('tool calls with colliding indexes are renumbered so the client assembles each call', async () => {
      fake.setScenario({ toolIndexCollision: true });
      const result = await collect({
        messages: [{ role: 'user', content: 'two calls [[tools:2]]' }],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
      });
      const calls = Object.values(result.calls);
      expect(calls).toHaveLength(2);
      expect(new Set(calls.map((c) => c.id)).size).toBe(2);
      for (const call of calls) expect(JSON.parse(call.args)).toMatchObject({ query: expect.any(String) });
      expect(result.finish).toBe('tool_calls');
    });

    test('rich tool schemas are cleaned of keywords Qwen refuses', async () => {
      await client(gw).chat.completions.create({
        model: 'coder-model',
        messages: [{ role: 'user', content: 'schema' }],
        tools: [{ type: 'function', function: { name: 'edit', parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } } }],
      });
      const tool = (lastChatBody().tools as Array<{ function: { parameters: Record<string, unknown> } }>)[0]!;
      expect(tool.function.parameters).not.toHaveProperty('$schema');
      expect(tool.function.parameters).toMatchObject({ type: 'object', properties: { path: { type: 'string' } } });
    });

    test('error_finish and DashScope error frames become an error the SDK raises, not answer text', async () => {
      for (const knob of [{ errorFinish: true }, { sseErrorFrame: true }]) {
        fake.setScenario({ ...knob, streamFaultAfterChunks: 2 });
        const error = await collect({ messages: [{ role: 'user', content: 'quirk [[long:5]]' }] }).catch((e) => e);
        expect(error).toBeInstanceOf(OpenAI.APIError);
        expect(String(error.message)).toMatch(/Throttling|quota/i);
        fake.setScenario({ errorFinish: false, sseErrorFrame: false });
      }
    });

    test('a finished stream without [DONE], split at every few bytes with CRLF and comments, still ends well', async () => {
      fake.setScenario({ noDone: true, sseSplit: [1, 3, 7], sseCrlf: true, sseNoSpace: true, sseComments: true });
      const result = await collect({ messages: [{ role: 'user', content: 'héllo 你好 wörld' }] });
      expect(result.content).toContain('héllo 你好 wörld');
      expect(result.finish).toBe('stop');
    });

    test('cached-token usage details pass through in the usage chunk', async () => {
      fake.setScenario({ explicitCacheUsage: true });
      const result = await collect({ messages: [{ role: 'user', content: 'cache' }], stream_options: { include_usage: true } });
      expect(result.chunks.at(-1)?.usage?.prompt_tokens_details).toMatchObject({ cached_tokens: expect.any(Number) });
    });
  });

  describe('upstream failures', () => {
    let gw: GatewayTarget;
    beforeAll(async () => {
      gw = await gateway({ UPSTREAM_IDLE_TIMEOUT_MS: '400', KEEPALIVE_INTERVAL_MS: '100', UPSTREAM_CONNECT_TIMEOUT_MS: '500' });
    });
    // Knobs only: reset() would also forget the tokens this gateway holds.
    afterEach(() => fake.setScenario({ dailyQuota: null, apiFault: 'none', resetAfterChunks: null, stallAfterChunks: null, firstByteDelayMs: 0 }));

    test("Qwen's quota error keeps its 429 and code, and says when to come back", async () => {
      // Its own gateway: the exhausted account rests until the next 00:00 Asia/Shanghai.
      const own = await gateway();
      fake.setScenario({ dailyQuota: 0 });
      const error = await client(own).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'q' }] }).catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(error.code).toBe('insufficient_quota');
      expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(error.message).toMatch(/Free allocated quota exceeded/);
      // The next request is answered at once, without bothering Qwen.
      const calls = chatCalls().length;
      await expect(client(own).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'q' }] })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
      expect(chatCalls().length).toBe(calls);
    });

    test('a Qwen 500 stays a 500 with its message', async () => {
      fake.setScenario({ apiFault: 500 });
      const error = await client(gw).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'q' }] }).catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error.message).toMatch(/internal error/i);
    });

    test('a stream that breaks mid-way ends with an error the SDK throws, not a silent success', async () => {
      fake.setScenario({ resetAfterChunks: 2 });
      const stream = await client(gw).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'break [[long:20]]' }], stream: true });
      await expect((async () => {
        for await (const _ of stream) void _;
      })()).rejects.toThrow();
    });

    test('a silent upstream gets keep-alive comments, then is cut off with an error frame', async () => {
      fake.setScenario({ stallAfterChunks: 1 });
      const res = await postChat(gw, { model: 'coder-model', stream: true, messages: [{ role: 'user', content: 'stall' }] });
      const text = await res.text();
      expect(text).toContain(': keep-alive');
      expect(text).toContain('upstream_idle_timeout');
      expect(text).not.toContain('[DONE]');
      await fake.waitFor((c) => c.openStreams === 0);
    });

    test('no answer from Qwen in time is a 504', async () => {
      fake.setScenario({ firstByteDelayMs: 3_000 });
      const res = await postChat(gw, { model: 'coder-model', messages: [{ role: 'user', content: 'slow' }] });
      expect(res.status).toBe(504);
      assertOpenAISchema('ErrorResponse', await res.json());
    });

    test('a non-streaming answer slower than the response-start deadline still arrives as the JSON completion', async () => {
      const patient = await gateway({ RESPONSE_START_TIMEOUT_MS: '150' });
      fake.setScenario({ firstByteDelayMs: 700 });
      const completion = await client(patient).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'take your time' }] });
      expect(completion.choices[0]?.message.content).toContain('take your time');
      assertOpenAISchema('CreateChatCompletionResponse', completion);
    });

    test('a stream whose Qwen headers come after the response-start deadline is committed in time, then relayed', async () => {
      const patient = await gateway({ RESPONSE_START_TIMEOUT_MS: '150', KEEPALIVE_INTERVAL_MS: '100' });
      fake.setScenario({ firstByteDelayMs: 700 });
      const started = Date.now();
      const res = await postChat(patient, { model: 'coder-model', stream: true, messages: [{ role: 'user', content: 'tardy' }] });
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(650);
      const text = await res.text();
      expect(text.startsWith(': keep-alive')).toBe(true);
      expect(text).toContain('tardy');
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      // A failure found after the commit is reported in-band.
      fake.setScenario({ firstByteDelayMs: 400, apiFault: 500 });
      const failed = await (await postChat(patient, { model: 'coder-model', stream: true, messages: [{ role: 'user', content: 'late fail' }] })).text();
      expect(failed).toMatch(/data: \{"error":\{"message":"An internal error/);
    });

    test('a client that disconnects mid-stream cancels the upstream request', async () => {
      fake.setScenario({ stallAfterChunks: 2 });
      // A disconnect is noticed when the gateway next writes; keep-alives make that soon.
      const slow = await gateway({ UPSTREAM_IDLE_TIMEOUT_MS: '60000', KEEPALIVE_INTERVAL_MS: '100' });
      const before = fake.counters.streamsAbortedByClient;
      const controller = new AbortController();
      const res = await postChat(slow, { model: 'coder-model', stream: true, messages: [{ role: 'user', content: 'abort me' }] }, { signal: controller.signal });
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
      await fake.waitFor((c) => c.streamsAbortedByClient > before, 10_000);
      expect(fake.counters.streamsAbortedByClient).toBe(before + 1);
    });
  });
}
