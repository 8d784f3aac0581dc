/** Self-tests of the fake Qwen server (tests/fake-qwen), over real HTTP with plain fetch. */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QWEN_CLIENT_ID, startFakeQwen, type FakeQwen, type QwenCredentials } from './fake-qwen/index.ts';

const DEAD_REFRESH_BODY = '{"error":"invalid_request","error_description":"Invalid refresh token or client_id"}';

let fake: FakeQwen;
beforeEach(async () => {
  fake = await startFakeQwen();
});
afterEach(async () => {
  await fake.close();
});

function form(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

function postToken(params: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fake.oauthUrl}/api/v1/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': 'QwenCode/0.14.5 (linux; x64)', ...headers },
    body: form(params),
  });
}

function refresh(refreshToken: string): Promise<Response> {
  return postToken({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: QWEN_CLIENT_ID });
}

/** The chat URL the way qwen-code derives it from resource_url (bare host → scheme added; here http). */
function chatUrl(creds: QwenCredentials): string {
  const base = creds.resource_url ?? '';
  const withScheme = /^https?:\/\//.test(base) ? base : `http://${base}`;
  return `${withScheme.endsWith('/v1') ? withScheme : `${withScheme}/v1`}/chat/completions`;
}

function chat(creds: QwenCredentials, body: Record<string, unknown>, init: RequestInit = {}): Promise<Response> {
  return fetch(chatUrl(creds), {
    method: 'POST',
    headers: { authorization: `Bearer ${creds.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'coder-model', ...body }),
    ...init,
  });
}

const user = (text: string) => ({ messages: [{ role: 'user', content: text }] });

/** A small SSE parser: CRLF or LF, comments skipped, `data:` with or without the space. */
function parseSse(text: string): string[] {
  const events: string[] = [];
  for (const block of text.replace(/\r\n/g, '\n').split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length > 0) events.push(data.join('\n'));
  }
  return events;
}

async function readStream(res: Response): Promise<{ text: string; reads: number }> {
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return { text: Buffer.concat(parts).toString('utf8'), reads: parts.length };
}

type Chunk = { choices: Array<Record<string, any>>; usage: unknown; object: string; id: string; created: number; model: string };

describe('fake Qwen API', () => {
  it('serves a non-stream completion for minted credentials, in DashScope key order', async () => {
    fake.clock.freeze();
    const creds = fake.mintCredentials();
    expect(Object.keys(creds)).toEqual(['access_token', 'refresh_token', 'token_type', 'resource_url', 'expiry_date']);
    expect(creds.resource_url).toBe(new URL(fake.apiUrl).host); // bare host by default, like "portal.qwen.ai"
    expect(creds.expiry_date).toBe(fake.clock.now() + 3600_000);

    const res = await chat(creds, user('hello there [[think]]'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, any>;
    expect(Object.keys(body)).toEqual(['choices', 'object', 'usage', 'created', 'system_fingerprint', 'model', 'id']);
    expect(body.choices[0]).toEqual({
      message: { role: 'assistant', content: 'Echo: hello there', reasoning_content: 'Thinking about: hello there' },
      finish_reason: 'stop',
      index: 0,
      logprobs: null,
    });
    expect(body.usage).toEqual({ prompt_tokens: 6, completion_tokens: 11, total_tokens: 17, prompt_tokens_details: { cached_tokens: 0 } });
    expect(body.model).toBe('coder-model');
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f-]{36}$/);
    expect(fake.counters.chatCalls).toBe(1);
    expect(fake.requests.at(-1)).toMatchObject({ server: 'api', method: 'POST', path: '/v1/chat/completions' });
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${creds.access_token}`);
  });

  it('streams role, content, finish, and a usage chunk only when include_usage is true', async () => {
    const creds = fake.mintCredentials();
    for (const includeUsage of [true, false]) {
      const res = await chat(creds, { ...user('one two three'), stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const events = parseSse((await readStream(res)).text);
      expect(events.at(-1)).toBe('[DONE]');
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
      expect(Object.keys(chunks[0]!)).toEqual(['choices', 'object', 'usage', 'created', 'system_fingerprint', 'model', 'id']);
      expect(chunks[0]!.choices[0]).toEqual({ delta: { content: '', role: 'assistant' }, index: 0, logprobs: null, finish_reason: null });
      const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
      expect(content).toBe('Echo: one two three');
      const finishIndex = chunks.findIndex((c) => c.choices[0]?.finish_reason === 'stop');
      expect(chunks[finishIndex]!.choices[0]!.delta).toEqual({ content: '', reasoning_content: null });
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      if (includeUsage) {
        expect(finishIndex).toBe(chunks.length - 2);
        expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 } });
        expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
      } else {
        expect(finishIndex).toBe(chunks.length - 1);
        expect(chunks.every((c) => c.usage === null && c.choices.length === 1)).toBe(true);
      }
    }
  });

  it('streams tool calls as an opening delta plus argument fragments', async () => {
    const creds = fake.mintCredentials();
    const tools = [{ type: 'function', function: { name: 'search_docs', parameters: { type: 'object' } } }];
    const res = await chat(creds, { ...user('find it [[tools]]'), tools, stream: true });
    const chunks = parseSse((await readStream(res)).text).slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    const calls = chunks.flatMap((c) => (c.choices[0]?.delta?.tool_calls ?? []) as Array<Record<string, any>>);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'search_docs', arguments: '' } });
    expect(calls.length).toBeGreaterThan(2);
    expect(JSON.parse(calls.map((c) => c.function.arguments).join(''))).toEqual({ query: 'find it' });
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('rejects an access token once the fake clock passes its expiry, with the real 401 body', async () => {
    const creds = fake.mintCredentials({ expiresInMs: 60_000 });
    expect((await chat(creds, user('hi'))).status).toBe(200);
    fake.clock.advance(60_000);
    const res = await chat(creds, user('hi'));
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, any>;
    expect(body.error).toEqual({ code: 'invalid_api_key', message: 'invalid access token or token expired', param: null, type: 'invalid_request_error' });
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers the quota error once the daily quota is used, with 429 or the 403 knob', async () => {
    fake.setScenario({ dailyQuota: 1 });
    const creds = fake.mintCredentials({ expiresInMs: 48 * 3600_000 });
    expect((await chat(creds, user('first'))).status).toBe(200);
    const res = await chat(creds, user('second'));
    expect(res.status).toBe(429);
    expect(((await res.json()) as Record<string, any>).error).toEqual({
      code: 'insufficient_quota',
      message: 'Free allocated quota exceeded.',
      param: null,
      type: 'insufficient_quota',
    });
    fake.setScenario({ quotaStatus: 403, quotaMessage: 'exceeded-current' });
    const forbidden = await chat(creds, user('third'));
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as Record<string, any>).error.message).toMatch(/^You exceeded your current quota/);
    // The quota day turns at 00:00 Asia/Shanghai by the fake clock.
    fake.clock.advance(24 * 3600_000);
    expect((await chat(creds, user('tomorrow'))).status).toBe(200);
  });

  it('throttles per account with Retry-After and rejects unknown models', async () => {
    fake.setScenario({ rpmLimit: 2, rpmRetryAfter: true });
    const creds = fake.mintCredentials();
    expect((await chat(creds, user('a'))).status).toBe(200);
    expect((await chat(creds, user('b'))).status).toBe(200);
    const throttled = await chat(creds, user('c'));
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    expect(((await throttled.json()) as Record<string, any>).error.code).toBe('Throttling.RateQuota');
    expect((await chat(fake.mintCredentials(), user('other account'))).status).toBe(200);

    const unknown = await chat(fake.mintCredentials(), { ...user('x'), model: 'qwen3.6-plus' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as Record<string, any>).error.message).toBe('model `qwen3.6-plus` is not supported.');
  });
});

describe('fake Qwen OAuth', () => {
  it('rotates refresh tokens: the second use of one answers the real 400', async () => {
    const creds = fake.mintCredentials();
    const first = await refresh(creds.refresh_token);
    expect(first.status).toBe(200);
    const next = (await first.json()) as Record<string, any>;
    expect(Object.keys(next)).toEqual(['access_token', 'token_type', 'expires_in', 'refresh_token', 'resource_url']);
    expect(next.refresh_token).not.toBe(creds.refresh_token);

    const again = await refresh(creds.refresh_token);
    expect(again.status).toBe(400);
    expect(await again.text()).toBe(DEAD_REFRESH_BODY);

    expect((await refresh(next.refresh_token as string)).status).toBe(200);
    expect(fake.counters.refreshCalls).toBe(3);
    expect(fake.counters.refreshCallsByToken[creds.refresh_token]).toBe(2);
    expect((await chat({ ...creds, access_token: next.access_token as string }, user('hi'))).status).toBe(200);
  });

  it('counts overlapping refreshes under refreshLatencyMs, and faultTimes limits a fault', async () => {
    fake.setScenario({ refreshLatencyMs: 100 });
    const creds = fake.mintCredentials();
    const [a, b] = await Promise.all([refresh(creds.refresh_token), refresh(creds.refresh_token)]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    expect(fake.counters.maxConcurrentRefreshes).toBe(2);

    fake.setScenario({ refreshLatencyMs: 0, refreshFault: 503, faultTimes: { refreshFault: 1 } });
    const fresh = fake.mintCredentials();
    const failed = await refresh(fresh.refresh_token);
    expect(failed.status).toBe(503);
    await failed.text();
    expect(fake.scenario.refreshFault).toBe('none');
    expect((await refresh(fresh.refresh_token)).status).toBe(200); // the fault did not burn the token
  });

  it('answers HTML to a refresh without a usable User-Agent when requireUserAgent is on', async () => {
    fake.setScenario({ requireUserAgent: true });
    const creds = fake.mintCredentials();
    const res = await postToken({ grant_type: 'refresh_token', refresh_token: creds.refresh_token, client_id: QWEN_CLIENT_ID }, { 'user-agent': 'node' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/^<!doctype html>/);
    expect((await refresh(creds.refresh_token)).status).toBe(200);
  });

  it('runs the device flow with PKCE: pending, slow_down, wrong verifier, success', async () => {
    fake.setScenario({ minPollMs: 2000 });
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const deviceRes = await fetch(`${fake.oauthUrl}/api/v1/oauth2/device/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'x-request-id': crypto.randomUUID() },
      body: form({ client_id: QWEN_CLIENT_ID, scope: 'openid profile email model.completion', code_challenge: challenge, code_challenge_method: 'S256' }),
    });
    expect(deviceRes.status).toBe(200);
    const device = (await deviceRes.json()) as Record<string, any>;
    expect(device.user_code).toMatch(/^[A-Z0-9]{8}$/);
    expect(device.verification_uri_complete).toBe(`${fake.oauthUrl}/authorize?user_code=${device.user_code}&client=qwen-code`);
    expect(device.expires_in).toBe(900);

    const poll = (codeVerifier: string) =>
      postToken({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: QWEN_CLIENT_ID, device_code: device.device_code, code_verifier: codeVerifier });

    const pending = await poll(verifier);
    expect(pending.status).toBe(400);
    expect(((await pending.json()) as Record<string, any>).error).toBe('authorization_pending');
    const tooFast = await poll(verifier);
    expect(tooFast.status).toBe(429);
    expect(((await tooFast.json()) as Record<string, any>).error).toBe('slow_down');

    fake.approveDevice(device.user_code as string);
    fake.clock.advance(2000);
    const wrong = await poll(randomBytes(32).toString('base64url'));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ error: 'invalid_grant', error_description: 'PKCE verification failed' });

    fake.clock.advance(2000);
    const ok = await poll(verifier);
    expect(ok.status).toBe(200);
    const tokens = (await ok.json()) as Record<string, any>;
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'openid profile email model.completion', resource_url: new URL(fake.apiUrl).host });
    expect(fake.counters.devicePolls).toBe(4);

    const reused = await poll(verifier); // device codes are single-use
    expect(((await reused.json()) as Record<string, any>).error).toBe('invalid_grant');
    const creds = { ...fake.mintCredentials(), access_token: tokens.access_token as string };
    expect((await chat(creds, user('logged in'))).status).toBe(200);
  });

  it('is controllable over HTTP from another process', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${fake.oauthUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/__fake/scenario', { resourceUrlStyle: 'http-v1', discontinued: true })).status).toBe(200);
    expect((await post('/__fake/scenario', { noSuchKnob: 1 })).status).toBe(400);
    const creds = (await (await post('/__fake/mint', {})).json()) as QwenCredentials;
    expect(creds.resource_url).toBe(`${fake.apiUrl}/v1`);
    expect((await chat(creds, user('hi'))).status).toBe(401);
    const before = fake.clock.now();
    const clock = (await (await post('/__fake/clock', { advanceMs: 3_600_000 })).json()) as { now: number };
    expect(clock.now - before).toBeGreaterThanOrEqual(3_600_000);
    const requests = (await (await fetch(`${fake.oauthUrl}/__fake/requests`)).json()) as unknown[];
    expect(requests).toHaveLength(1); // control calls are not recorded
    expect((await post('/__fake/reset', {})).status).toBe(200);
    expect(fake.scenario.discontinued).toBe(false);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('fake Qwen stream faults', () => {
  const normalize = (events: string[]) =>
    events.map((e) => (e === '[DONE]' ? e : JSON.stringify({ ...(JSON.parse(e) as object), id: 'x', created: 0 })));

  it('re-assembles a byte-split stream (CRLF, no space, comments) into the same frames', async () => {
    const creds = fake.mintCredentials();
    const request = { ...user('héllo wörld — 你好 🌍 [[think]]'), stream: true, stream_options: { include_usage: true } };
    const plain = normalize(parseSse((await readStream(await chat(creds, request))).text));

    fake.setScenario({ sseSplit: [1, 2, 5], sseCrlf: true, sseNoSpace: true, sseComments: true });
    const split = await readStream(await chat(creds, request));
    expect(split.reads).toBeGreaterThan(1);
    expect(split.text).toContain('\r\n');
    expect(split.text).toContain(': keep-alive');
    expect(split.text).toMatch(/^(: keep-alive\r\n\r\n)?data:\{/);
    expect(normalize(parseSse(split.text))).toEqual(plain);
    expect(plain.some((e) => e.includes('你好'))).toBe(true);
  });

  it('counts a stream the client abandons during a stall as aborted by the client', async () => {
    fake.setScenario({ stallAfterChunks: 2 });
    const creds = fake.mintCredentials();
    const controller = new AbortController();
    const res = await chat(creds, { ...user('a b c d e'), stream: true }, { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    while (parseSse(text).length < 2) {
      const { value } = await reader.read();
      text += Buffer.from(value!).toString('utf8');
    }
    await fake.waitFor((c) => c.openStreams === 1);
    expect(fake.counters.streamsAbortedByClient).toBe(0);
    controller.abort();
    await reader.read().catch(() => undefined);
    await fake.waitFor((c) => c.streamsAbortedByClient === 1 && c.openStreams === 0);
  });

  it('injects error_finish, an SSE error frame, a reset after N chunks, and no [DONE]', async () => {
    const creds = fake.mintCredentials();
    const stream = { ...user('x y z'), stream: true };

    fake.setScenario({ errorFinish: true, streamFaultAfterChunks: 1 });
    let events = parseSse((await readStream(await chat(creds, stream))).text);
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[1]!).choices[0]).toEqual({ delta: { content: 'Throttling: TPM(1/1)' }, finish_reason: 'error_finish', index: 0 });

    fake.setScenario({ errorFinish: false, sseErrorFrame: true, streamFaultAfterChunks: 0 });
    const frame = (await readStream(await chat(creds, stream))).text;
    expect(frame).toMatch(/^id:1\nevent:error\n:HTTP_STATUS\/429\ndata:\{"request_id":"[^"]+","code":"Throttling.AllocationQuota"/);

    fake.setScenario({ sseErrorFrame: false, resetAfterChunks: 2 });
    const res = await chat(creds, stream);
    const reader = res.body!.getReader();
    let text = '';
    const error = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return null;
          text += Buffer.from(value).toString('utf8');
        }
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(Error);
    expect(parseSse(text)).toHaveLength(2);
    expect(fake.counters.streamsAbortedByClient).toBe(0);

    fake.setScenario({ resetAfterChunks: null, noDone: true });
    events = parseSse((await readStream(await chat(creds, stream))).text);
    expect(events.at(-1)).not.toBe('[DONE]');
    expect(JSON.parse(events.at(-1)!).choices[0].finish_reason).toBe('stop');
  });
});
