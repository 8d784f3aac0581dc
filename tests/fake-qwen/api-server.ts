/**
 * The fake portal.qwen.ai: POST /v1/chat/completions (auth, strict mode, validation, quota, rpm,
 * faults, JSON and SSE answers), plus GET /v1/models and web search (protocol §5, §6, §9.2).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { generateReply } from './generate-reply.ts';
import { applyScriptedTool } from './scripted-tool-model.ts';
import { flatHeaders, readBody, resetConnection, sendJson, sendText, tryParseJson, type Handler } from './http-helpers.ts';
import type { FakeState } from './fake-state.ts';
import { SseWriter } from './sse-writer.ts';
import {
  completionBody,
  errorFinishChunk,
  incorrectApiKeyError,
  internalError,
  invalidParameterError,
  modelUnavailableError,
  notFoundError,
  quotaError,
  rateLimitError,
  sseErrorFrameLines,
  streamChunks,
  unauthorizedError,
  type ResponseMeta,
} from './wire-bodies.ts';

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const DEFAULT_OUTPUT_LIMIT = 65536;

export function createApiHandler(state: FakeState): Handler {
  /** The account behind a usable Bearer token, or null after answering 401. */
  const authenticate = (res: ServerResponse, headers: Record<string, string>): string | null => {
    const s = state.scenario;
    const token = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim() ?? '';
    const account = s.discontinued ? null : state.accountOfAccessToken(token);
    if (account === null) sendJson(res, 401, unauthorizedError(s.authErrorVariant));
    return account;
  };

  /** Returns an error message, or null when the body is a valid chat request. */
  const validate = (body: unknown): string | null => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return 'The request body is not valid JSON.';
    const { messages, model } = body as Record<string, unknown>;
    if (!Array.isArray(messages) || messages.length === 0) return '<400> InternalError.Algo.InvalidParameter: messages must not be empty.';
    for (const [i, message] of messages.entries()) {
      const role = message && typeof message === 'object' ? (message as Record<string, unknown>).role : undefined;
      if (typeof role !== 'string' || !ROLES.has(role)) {
        return `<400> InternalError.Algo.InvalidParameter: messages[${i}].role must be one of system, user, assistant, tool.`;
      }
    }
    if (typeof model !== 'string' || model === '') return 'Model not specified.';
    return null;
  };

  const strictOk = (headers: Record<string, string>, body: Record<string, unknown>): boolean => {
    const first = (body.messages as Array<Record<string, unknown>>)[0];
    return (
      headers['x-dashscope-authtype'] === 'qwen-oauth' &&
      headers['x-dashscope-cachecontrol'] === 'enable' &&
      (headers['user-agent'] ?? '').startsWith('QwenCode/') &&
      first?.role === 'system'
    );
  };

  const chat = async (res: ServerResponse, headers: Record<string, string>, raw: string): Promise<void> => {
    state.bump('chatCalls');
    const s = state.scenario;
    const parsed = tryParseJson(raw);
    const isStream = !!parsed && typeof parsed === 'object' && (parsed as Record<string, unknown>).stream === true;

    // Who closed the connection: the client (counted) or the fake itself (a reset knob).
    let selfDestroyed = false;
    const clientLeft = new AbortController();
    res.on('close', () => {
      if (res.writableFinished) return;
      clientLeft.abort();
      if (isStream && !selfDestroyed && !state.shutDown) state.bump('streamsAbortedByClient');
    });

    const account = authenticate(res, headers);
    if (account === null) return;
    const invalid = validate(parsed);
    if (invalid !== null) return sendJson(res, 400, invalidParameterError(invalid));
    const body = parsed as Record<string, unknown>;
    if (s.strict && !strictOk(headers, body)) return sendJson(res, 400, invalidParameterError('bad request'));
    const model = body.model as string;
    if (!s.allowedModels.includes(model)) return sendJson(res, 400, invalidParameterError(`model \`${model}\` is not supported.`));
    const limit = s.maxOutputTokens[model] ?? DEFAULT_OUTPUT_LIMIT;
    const maxTokens = body.max_tokens;
    if (maxTokens !== undefined && maxTokens !== null && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1 || (maxTokens as number) > limit)) {
      return sendJson(res, 400, invalidParameterError(`Range of max_tokens should be [1, ${limit}]`));
    }
    if (s.maxInputTokens !== null && Math.ceil(JSON.stringify(body.messages).length / 4) > s.maxInputTokens) {
      return sendJson(res, 400, invalidParameterError(`Range of input length should be [1, ${s.maxInputTokens}]`));
    }
    const limited = state.chargeQuota(account);
    if (limited?.hit === 'daily') return sendJson(res, s.quotaStatus, quotaError(s.quotaMessage));
    if (limited?.hit === 'rpm') {
      return sendJson(res, 429, rateLimitError(), s.rpmRetryAfter ? { 'retry-after': String(limited.retryAfterSec) } : {});
    }

    if (!(await state.sleep(s.firstByteDelayMs, clientLeft.signal))) return;

    if (s.apiFault !== 'none') {
      const fault = s.apiFault;
      state.fire('apiFault');
      if (fault === 500) return sendJson(res, 500, internalError());
      if (fault === 503) return sendJson(res, 503, modelUnavailableError());
      if (fault === 504) return sendText(res, 504, 'text/plain', 'stream timeout');
      selfDestroyed = true;
      return resetConnection(res);
    }

    const reply = applyScriptedTool(
      generateReply(body, { thinkByDefault: s.thinkByDefault, thinkTagLeak: s.thinkTagLeak, toolIndexCollision: s.toolIndexCollision }),
      body,
      s.scriptedTool,
    );
    const meta: ResponseMeta = { id: `chatcmpl-${randomUUID()}`, model, created: Math.floor(state.clock.now() / 1000) };
    if (!isStream) return sendJson(res, 200, completionBody(reply, meta, s.explicitCacheUsage));

    // ---- stream ----
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    state.bump('openStreams');
    res.once('close', () => state.bump('openStreams', -1));

    const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
    const events = streamChunks(reply, meta, streamOptions?.include_usage === true, s.explicitCacheUsage);
    const writer = new SseWriter(res, { crlf: s.sseCrlf, noSpace: s.sseNoSpace, comments: s.sseComments, split: s.sseSplit }, clientLeft.signal);
    if (s.sseSplit !== null) state.fire('sseSplit');
    const at = (n: number | null): number | null => (n === null ? null : Math.min(Math.max(0, n), events.length));
    const stallAt = at(s.stallAfterChunks);
    const resetAt = at(s.resetAfterChunks);
    const faultAt = s.errorFinish || s.sseErrorFrame ? at(s.streamFaultAfterChunks) : null;

    for (let i = 0; i <= events.length; i++) {
      if (writer.closed) return;
      if (stallAt === i) {
        state.fire('stallAfterChunks');
        await writer.flush();
        await state.untilAborted(clientLeft.signal); // nothing more until the client gives up (or the fake closes)
        return;
      }
      if (resetAt === i) {
        state.fire('resetAfterChunks');
        await writer.settle(); // the N chunks must reach the client before the connection dies
        selfDestroyed = true;
        res.destroy();
        return;
      }
      if (faultAt === i) {
        if (s.errorFinish) {
          state.fire('errorFinish');
          await writer.data(JSON.stringify(errorFinishChunk(meta)));
        } else {
          state.fire('sseErrorFrame');
          await writer.frame(sseErrorFrameLines());
        }
        await writer.flush();
        res.end();
        return;
      }
      const event = events[i];
      if (event === undefined) break;
      if (i > 0 && s.chunkDelayMs > 0 && !(await state.sleep(s.chunkDelayMs, clientLeft.signal))) return;
      await writer.data(JSON.stringify(event));
    }
    if (s.noDone) state.fire('noDone');
    else await writer.done();
    await writer.flush();
    res.end();
  };

  const models = (res: ServerResponse, headers: Record<string, string>): void => {
    if (state.scenario.modelsEndpoint === 'not-found') return sendJson(res, 404, notFoundError());
    if (authenticate(res, headers) === null) return;
    const created = Math.floor(state.clock.now() / 1000);
    sendJson(res, 200, {
      object: 'list',
      data: state.scenario.allowedModels.map((id) => ({ id, object: 'model', created, owned_by: 'qwen' })),
    });
  };

  const webSearch = (res: ServerResponse, headers: Record<string, string>, raw: string): void => {
    if (!state.scenario.webSearch) return sendJson(res, 404, notFoundError());
    if (authenticate(res, headers) === null) return;
    const input = (tryParseJson(raw) ?? {}) as { uq?: unknown; rows?: unknown };
    const query = typeof input.uq === 'string' ? input.uq : '';
    const rows = typeof input.rows === 'number' && input.rows > 0 ? Math.min(input.rows, 3) : 3;
    const docs = Array.from({ length: rows }, (_, i) => ({
      title: `Result ${i + 1} for ${query}`,
      url: `https://example.com/search/${i + 1}?q=${encodeURIComponent(query)}`,
      snippet: `Snippet ${i + 1} about ${query}.`,
      timestamp_format: '2026-01-01 00:00:00',
      hostname: 'example.com',
      _score: Number((1 - i * 0.1).toFixed(2)),
    }));
    sendJson(res, 200, { status: 0, message: null, success: true, rid: randomUUID(), data: { total: rows, totalDistinct: rows, docs } });
  };

  return async (req, res) => {
    const raw = await readBody(req);
    const headers = flatHeaders(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    state.record({
      server: 'api',
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      headers,
      body: raw,
      json: tryParseJson(raw),
      at: state.clock.now(),
    });
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'POST /v1/chat/completions':
        return chat(res, headers, raw);
      case 'POST /compatible-mode/v1/chat/completions':
        return sendJson(res, 401, incorrectApiKeyError());
      case 'GET /v1/models':
        return models(res, headers);
      case 'POST /api/v1/indices/plugin/web_search':
        return webSearch(res, headers, raw);
      default:
        return sendJson(res, 404, notFoundError());
    }
  };
}
