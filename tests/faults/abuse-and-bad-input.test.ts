import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';
import { startCloudflare, type GatewayTarget, type StartTarget } from '../e2e/targets.ts';
import { startVercel } from '../e2e/vercel-target.ts';

/**
 * Abuse of an open gateway and bad input, on both hosts: every refusal comes before Qwen is called,
 * in OpenAI's error shape, and no bad input gets a 5xx or hangs.
 */
const KEY = 'sk-abuse';
const hosts: Array<{ name: string; start: StartTarget }> = [
  { name: 'cloudflare', start: startCloudflare },
  { name: 'vercel', start: startVercel },
];

describe.each(hosts)('$name', ({ name, start }) => {
  let fake: FakeQwen;
  let open: GatewayTarget;
  let keyed: GatewayTarget;
  const serverErrors: string[] = [];
  const chatCalls = () => fake.requests.filter((r) => r.server === 'api' && r.path.endsWith('/chat/completions')).length;
  const body = (content = 'hi', extra: object = {}) => JSON.stringify({ model: 'coder-model', messages: [{ role: 'user', content }], ...extra });
  /** Every answer to bad input passes through here: a 5xx is counted, whatever the case expects. */
  const post = async (target: GatewayTarget, payload: BodyInit, headers: Record<string, string> = {}, path = '/v1/chat/completions') => {
    const res = await fetch(`${target.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(target === keyed ? { authorization: `Bearer ${KEY}` } : {}), ...headers },
      body: payload,
      ...(payload instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    if (res.status >= 500) serverErrors.push(`${res.status} ${path}`);
    return res;
  };

  beforeAll(async () => {
    fake = await startFakeQwen({ resourceUrlStyle: 'http', rpmLimit: null });
    const base = { QWEN_CLI_AUTH: JSON.stringify(fake.mintCredentials()), QWEN_OAUTH_BASE_URL: fake.oauthUrl, LOG_LEVEL: 'error' };
    [open, keyed] = await Promise.all([start(base), start({ ...base, OPENAI_API_KEY: KEY, MAX_BODY_BYTES: '500000' })]);
  });
  afterAll(async () => {
    console.log(`bad input ${name}: 5xx answers ${serverErrors.length}${serverErrors.length ? ` (${serverErrors.join(', ')})` : ''}`);
    await Promise.all([open?.close(), keyed?.close()]);
    await fake?.close();
  });

  describe('an open gateway (no OPENAI_API_KEY)', () => {
    test('a foreign origin is refused before Qwen is called, and its answer grants no CORS', async () => {
      const before = chatCalls();
      for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example', 'http://127.0.0.1.nip.io']) {
        const res = await post(open, body(), { origin });
        expect(res.status).toBe(403);
        expect((await res.json()).error).toMatchObject({ code: 'origin_not_allowed', type: 'permission_error' });
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
      }
      expect(chatCalls()).toBe(before);
      const preflight = await fetch(`${open.url}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    });

    test('loopback origins and origin-less clients are served; loopback gets its own origin back', async () => {
      for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000']) {
        const res = await post(open, body(), { origin });
        expect(res.status).toBe(200);
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        await res.text();
      }
      const res = await post(open, body());
      expect(res.status).toBe(200);
      await res.text();
    });

    test('bodies must be declared JSON: text/plain and type-less bodies are 415, JSON variants pass', async () => {
      const before = chatCalls();
      for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await post(open, body(), { 'content-type': type });
        expect(res.status).toBe(415);
        expect((await res.json()).error.code).toBe('unsupported_media_type');
      }
      const typeless = await post(open, new Blob([body()]), { 'content-type': '' });
      expect(typeless.status).toBe(415);
      await typeless.text();
      expect(chatCalls()).toBe(before);
      for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.example+json']) {
        const res = await post(open, body(), { 'content-type': type });
        expect(res.status).toBe(200);
        await res.text();
      }
    });

    test('/v1/status is closed without ADMIN_API_KEY, and says how to open it; /health says "open"', async () => {
      const res = await fetch(`${open.url}/v1/status`);
      expect(res.status).toBe(403);
      expect((await res.json()).error.message).toContain('ADMIN_API_KEY');
      expect(await (await fetch(`${open.url}/health`)).json()).toMatchObject({ auth: 'open' });
      expect(await (await fetch(`${keyed.url}/health`)).json()).toMatchObject({ auth: 'key' });
    });
  });

  describe('a keyed gateway keeps CORS open', () => {
    test('a foreign origin with a key is served and may read the answer', async () => {
      const res = await post(keyed, body(), { origin: 'https://chat.example' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      await res.text();
    });
  });

  describe('bad input gets a 4xx, never a 5xx or a hang', () => {
    test('a 100,000-level array and a 5,000-level tool schema are 400s; Qwen is not called', async () => {
      const before = chatCalls();
      const deepArray = await post(keyed, `{"model":"coder-model","messages":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
      expect(deepArray.status).toBe(400);
      expect((await deepArray.json()).error.code).toBe('json_too_deep');
      const schema = `${'{"type":"object","properties":{"x":'.repeat(5_000)}{}${'}}'.repeat(5_000)}`;
      const deepTool = await post(keyed, body('hi').replace(/}$/, `,"tools":[{"type":"function","function":{"name":"f","parameters":${schema}}}]}`));
      expect(deepTool.status).toBe(400);
      await deepTool.text();
      expect(chatCalls()).toBe(before);
    });

    test('model names from Object.prototype do not resolve: 404 model_not_found, Qwen not called', async () => {
      const before = chatCalls();
      for (const model of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
        const res = await post(keyed, JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }));
        expect(res.status).toBe(404);
        expect((await res.json()).error.code).toBe('model_not_found');
      }
      const effort = await post(keyed, body('x', { reasoning_effort: 'constructor' }));
      expect(effort.status).toBeLessThan(500);
      await effort.text();
      expect(chatCalls()).toBe(before + 1);
    });

    test('a chunked body over MAX_BODY_BYTES is a 413 at once, not a hang', async () => {
      // node:http rather than fetch: the server may answer (and close) while the upload still runs,
      // and fetch would then report the broken upload instead of the answer that came first.
      const started = Date.now();
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(`${keyed.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        });
        // The upload being cut off is the point; the answer is what counts. A reset that came before
        // any answer could be read is reported as status 0.
        req.on('error', (error) => setTimeout(() => resolve({ status: 0, text: String(error) }), 2_000));
        let sent = 0;
        const pump = () => {
          while (sent < 2_000_000 && !req.destroyed) {
            sent += 16_384;
            if (!req.write(Buffer.alloc(16_384, 0x20))) return void req.once('drain', pump);
          }
          if (!req.destroyed) req.end();
        };
        pump();
      });
      if (status >= 500) serverErrors.push(`${status} chunked upload`);
      // workerd (Miniflare) closes the connection right after its early 413, and the still-uploading
      // client may see that reset before the answer; what matters there is that it comes at once.
      // edge-runtime is where the gateway used to hang (issue 11): there the 413 itself must arrive.
      if (name === 'cloudflare' && status === 0) expect(text).toMatch(/ECONNRESET|EPIPE/);
      else {
        expect(`${name} ${status} ${status === 413 ? '' : text}`).toBe(`${name} 413 `);
        expect(JSON.parse(text).error.code).toBe('request_too_large');
      }
      expect(Date.now() - started).toBeLessThan(8_000);
    });

    test('quota answers keep one code: insufficient_quota on the first request and the ones after', async () => {
      const own = await start({ QWEN_CLI_AUTH: JSON.stringify(fake.mintCredentials()), QWEN_OAUTH_BASE_URL: fake.oauthUrl, OPENAI_API_KEY: KEY, LOG_LEVEL: 'error' });
      try {
        fake.setScenario({ dailyQuota: 0 });
        const codes: string[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${own.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
            body: body(),
          });
          expect(res.status).toBe(429);
          codes.push((await res.json()).error.code);
        }
        expect(codes).toEqual(['insufficient_quota', 'insufficient_quota', 'insufficient_quota']);
      } finally {
        fake.setScenario({ dailyQuota: null });
        await own.close();
      }
    });

    test('no bad input above got a 5xx', () => {
      expect(serverErrors).toEqual([]);
    });
  });
});
