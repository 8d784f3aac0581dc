import http from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startVercelDevServer, type VercelDevServer } from '../../scripts/vercel/dev-server.mjs';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';

/** A client that goes away mid-upload is a 499 in the request log, not an unexpected 500. */
let fake: FakeQwen;
let server: VercelDevServer;
const logs: string[] = [];
beforeAll(async () => {
  fake = await startFakeQwen({ resourceUrlStyle: 'http' });
  const collect = (...args: unknown[]) => void logs.push(args.map(String).join(' '));
  server = await startVercelDevServer({
    env: { QWEN_CLI_AUTH: JSON.stringify(fake.mintCredentials()), QWEN_OAUTH_BASE_URL: fake.oauthUrl, OPENAI_API_KEY: 'k', LOG_LEVEL: 'info' },
    port: 0,
    console: { log: collect, info: collect, warn: collect, error: collect, debug: collect },
  });
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

test('vercel: an upload cut off by the client is logged with status 499 and no unexpected error', async () => {
  const req = http.request(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k', 'transfer-encoding': 'chunked' },
  });
  req.on('error', () => {}); // we are the client that leaves
  req.write('{"model":"coder-model","messages":[{"role":"user","content":"');
  await new Promise((r) => setTimeout(r, 200));
  req.destroy();
  const deadline = Date.now() + 5_000;
  const requestLine = () => logs.map((l) => l.trim()).find((l) => l.includes('"msg":"request"') && l.includes('/v1/chat/completions'));
  while (!requestLine() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const line = JSON.parse(requestLine() ?? '{}');
  expect(line).toMatchObject({ status: 499, errorCode: 'client_closed' });
  expect(logs.join('\n')).not.toContain('unexpected error');
  expect(fake.requests.filter((r) => r.server === 'api').length).toBe(0);
});
