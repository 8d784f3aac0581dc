/**
 * A fake for the API-key endpoints people buy in 2026 (clients-and-qwen §1.3): Coding Plan, Token
 * Plan, pay-as-you-go DashScope and ModelScope, in one loopback server. Each key belongs to one
 * provider; what differs between them is what the gateway must get right:
 * - Coding Plan refuses clients it does not recognise as coding agents (405, jcode #81);
 * - each key has its own model list at `GET …/models` (OpenAI's list shape);
 * - a key can be set to run out after N answers, with the recorded quota error of its provider
 *   (tests/fixtures/qwen-errors), optionally only once (to watch the gateway rest it).
 *
 *   const fake = await startFakeKeyProvider({ 'sk-sp-a': { provider: 'coding-plan', models: [...] } });
 *   // gateway: QWEN_API_KEYS=[{"id":"a","key":"sk-sp-a","provider":"coding-plan","baseUrl":`${fake.url}/v1`}]
 *   fake.exhaust('sk-sp-a', 'coding-plan-hour');   // its next chat answer is that error
 *
 * Chat answers are the OAuth fake's (generate-reply.ts, wire-bodies.ts), so markers work the same.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { generateReply } from './generate-reply.ts';
import { flatHeaders, readBody, sendJson, startLoopbackServer, tryParseJson } from './http-helpers.ts';
import { completionBody, streamChunks } from './wire-bodies.ts';

export type KeyProvider = 'coding-plan' | 'token-plan' | 'dashscope' | 'modelscope';

export interface FakeKey {
  provider: KeyProvider;
  models: string[];
  /** `GET /models` answers 404 for this key (the gateway must fall back to its built-in list). */
  noModelList?: boolean;
}

/** Recorded quota bodies, by fixture name (tests/fixtures/qwen-errors/<name>.json). */
export type QuotaFixture = 'coding-plan-hour' | 'coding-plan-week' | 'token-plan-week' | 'dashscope-allocation-quota' | 'dashscope-rate-quota';

export interface KeyRequest {
  method: string;
  path: string;
  key: string;
  headers: Record<string, string>;
  json: unknown;
}

export interface FakeKeyProvider {
  url: string;
  readonly requests: KeyRequest[];
  /** The key's next chat requests (all, or `times` of them) get the recorded error. */
  exhaust(key: string, fixture: QuotaFixture, options?: { times?: number; retryAfter?: string }): void;
  /** The key answers again. */
  restore(key: string): void;
  close(): Promise<void>;
}

/** Coding agents as they name themselves in User-Agent (Claude Code, Codex, Qwen Code, Cline, …). */
const CODING_AGENT = /^(claude-cli|claude-code|codex|codex_cli_rs|QwenCode|Cline|opencode|Kilo-Code|Roo-Code)\b/i;

function fixture(name: QuotaFixture): { status: number; body: unknown } {
  return JSON.parse(readFileSync(new URL(`../fixtures/qwen-errors/${name}.json`, import.meta.url), 'utf8'));
}

export async function startFakeKeyProvider(keys: Record<string, FakeKey>): Promise<FakeKeyProvider> {
  const requests: KeyRequest[] = [];
  const exhausted = new Map<string, { fixture: QuotaFixture; left: number; retryAfter?: string }>();

  const server = await startLoopbackServer(async (req, res) => {
    const raw = await readBody(req);
    const headers = flatHeaders(req);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const key = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim() ?? '';
    const json = tryParseJson(raw);
    requests.push({ method: req.method ?? 'GET', path, key, headers, json });
    const account = keys[key];
    if (!account) {
      // DashScope's answer to a key it does not know (or a key of another plan).
      return sendJson(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    }
    if (account.provider === 'coding-plan' && !CODING_AGENT.test(headers['user-agent'] ?? '')) {
      return sendJson(res, 405, { error: 'Coding Plan is currently only available for Coding Agents' });
    }
    if (req.method === 'GET' && path.endsWith('/models')) {
      if (account.noModelList) return sendJson(res, 404, { error: { message: 'Not Found', type: 'invalid_request_error', code: 'not_found' } });
      return sendJson(res, 200, { object: 'list', data: account.models.map((id) => ({ id, object: 'model', created: 1_767_225_600, owned_by: 'system' })) });
    }
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) return sendJson(res, 404, {});
    const body = (json ?? {}) as Record<string, unknown>;
    const model = String(body.model ?? '');
    if (!account.models.includes(model)) {
      return sendJson(res, 400, { error: { message: `model \`${model}\` is not supported.`, type: 'invalid_request_error', param: null, code: 'invalid_parameter_error' } });
    }
    const spent = exhausted.get(key);
    if (spent && spent.left > 0) {
      spent.left -= 1;
      const { status, body: errorBody } = fixture(spent.fixture);
      return sendJson(res, status, errorBody, spent.retryAfter ? { 'retry-after': spent.retryAfter } : {});
    }
    const reply = generateReply(body as never, { thinkByDefault: false, thinkTagLeak: false, toolIndexCollision: false });
    const meta = { id: `chatcmpl-${randomUUID()}`, model, created: Math.floor(Date.now() / 1000) };
    if (body.stream !== true) return sendJson(res, 200, completionBody(reply, meta, false));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    for (const event of streamChunks(reply, meta, includeUsage, false)) res.write(`data: ${JSON.stringify(event)}\n\n`);
    res.end('data: [DONE]\n\n');
  });

  return {
    url: server.url,
    requests,
    exhaust: (key, name, options = {}) =>
      exhausted.set(key, { fixture: name, left: options.times ?? Number.POSITIVE_INFINITY, ...(options.retryAfter ? { retryAfter: options.retryAfter } : {}) }),
    restore: (key) => void exhausted.delete(key),
    close: () => server.close(),
  };
}
