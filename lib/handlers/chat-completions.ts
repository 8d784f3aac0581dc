import type { Deps } from '../deps.ts';
import { GatewayError } from '../errors.ts';
import { timed, type RequestContext } from '../http/request-context.ts';
import { readJsonBody } from '../http/read-json-body.ts';
import { validateChatRequest } from '../openai/validate-chat-request.ts';
import { relayChatStream } from '../openai/relay-chat-stream.ts';
import { peekStreamStart } from '../openai/peek-stream-start.ts';
import type { ByteSource } from '../openai/byte-source.ts';
import { normalizeCompletion } from '../openai/normalize-completion.ts';
import { jsonWithinDeadline } from '../http/json-within-deadline.ts';
import { resolveModel } from '../models/resolve-model.ts';
import { buildQwenRequest, type QwenPromptIds } from '../qwen/build-qwen-request.ts';
import { stableUuid } from '../util/stable-uuid.ts';
import { isAuthError, isQuotaError, readUpstreamError, upstreamGatewayError, type UpstreamErrorInfo } from '../qwen/upstream-error.ts';
import { nextQuotaReset } from '../accounts/account-ledger.ts';
import type { TokenSource, UpstreamAccess } from '../accounts/token-source.ts';
import type { ChatRequest } from '../openai/validate-chat-request.ts';

/** POST /v1/chat/completions */
export async function chatCompletions(request: Request, deps: Deps, ctx: RequestContext): Promise<Response> {
  const body = validateChatRequest(await readJsonBody(request, deps.config.maxBodyBytes));
  const model = resolveModel(typeof body.model === 'string' ? body.model : undefined, deps.config);
  const turn: Turn = { model, ids: { sessionId: sessionIdOf(body), promptId: ctx.id } };
  const stream = body.stream === true;
  ctx.fields.model = model;
  ctx.fields.stream = stream;

  const upstream = new AbortController();
  request.signal?.addEventListener('abort', () => upstream.abort('client disconnected'), { once: true });
  const countUsage = (source: TokenSource, usage: unknown) => {
    ctx.fields.usage = usage;
    const flush = deps.accounts.recordUsage(source.id, totalTokens(usage));
    if (flush) deps.waitUntil(flush);
  };

  if (!stream) {
    const answer = (async () => {
      const { account, answer } = await callSomeAccount(body, turn, deps, upstream, ctx);
      const completion = await readCompletion(answer.response);
      countUsage(account, completion.usage);
      return normalizeCompletion(completion);
    })();
    const deadlineMs = deps.config.responseStartTimeoutMs;
    if (!deadlineMs) return Response.json(await answer);
    return jsonWithinDeadline(answer, {
      deadlineMs,
      onLateError: (error) => {
        ctx.fields.status = error.status;
        ctx.fields.errorCode = error.code;
      },
      onCancel: () => upstream.abort('client disconnected'),
    });
  }

  const { account, answer } = await callSomeAccount(body, turn, deps, upstream, ctx);
  if (!answer.source) throw new GatewayError({ status: 502, code: 'upstream_bad_response', message: 'Qwen answered without a body.' });
  let settle!: () => void;
  ctx.completion = new Promise<void>((resolve) => (settle = resolve));
  const relayed = relayChatStream(answer.source, {
    includeUsage: (body.stream_options as { include_usage?: unknown } | null | undefined)?.include_usage === true,
    keepAliveMs: deps.config.keepAliveMs,
    idleTimeoutMs: deps.config.upstreamIdleTimeoutMs,
    abortUpstream: (reason) => upstream.abort(reason),
    onEnd: (summary) => {
      countUsage(account, summary.usage);
      ctx.fields.finishReason = summary.finishReason;
      if (summary.error) {
        ctx.fields.streamError = summary.error.code;
        ctx.fields.status = summary.error.status;
      }
      settle();
    },
  });
  return new Response(relayed, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      // Nothing between Qwen and the client may buffer or compress the stream.
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  });
}

/** What one client request asks of Qwen, whichever account ends up serving it. */
interface Turn {
  model: string;
  ids: QwenPromptIds;
}

/**
 * Qwen Code sends one sessionId for a whole conversation. A gateway sees each turn separately, so
 * a conversation is recognised by how it begins: its first two messages, which every later turn
 * repeats. Qwen's prompt cache is keyed by session, so this keeps the cache warm across turns.
 */
function sessionIdOf(body: ChatRequest): string {
  const opening = JSON.stringify((body.messages as unknown[]).slice(0, 2));
  // An opening that carries an image can be megabytes: its ends and its length identify it well enough.
  const sample = opening.length <= 65_536 ? opening : `${opening.length}:${opening.slice(0, 32_768)}${opening.slice(-32_768)}`;
  return stableUuid(sample);
}

async function readCompletion(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new GatewayError({ status: 502, code: 'upstream_bad_response', message: 'Qwen answered with a body that is not a JSON object.' });
}

/**
 * Tries the accounts in turn until one answers. An account that cannot serve (quota, throttle, dead
 * refresh token) is taken out of rotation and the request moves on at once; nothing has reached the
 * client yet, so retrying is invisible to it. When no account can serve, the pool says why (429 with
 * Retry-After, or 503 when every account needs a new login).
 */
async function callSomeAccount(
  body: ChatRequest,
  turn: Turn,
  deps: Deps,
  upstream: AbortController,
  ctx: RequestContext,
): Promise<{ account: TokenSource; answer: Answer }> {
  const tried = new Set<string>();
  let last: GatewayError | undefined;
  for (;;) {
    const source = await deps.accounts.pick(tried, turn.model).catch((noneLeft: unknown) => {
      throw last && noneLeft instanceof GatewayError ? explainExhausted(noneLeft, last) : noneLeft;
    });
    tried.add(source.id);
    ctx.fields.account = source.id;
    try {
      return { account: source, answer: await callWithRefresh(source, body, turn, deps, upstream, ctx) };
    } catch (thrown) {
      if (!(thrown instanceof GatewayError)) throw thrown;
      last = thrown;
      const now = deps.clock.now();
      if (thrown.code === 'qwen_credentials_invalid' || thrown.code === 'qwen_credentials_rejected') {
        await deps.accounts.needsRelogin(source, thrown.message);
      } else if (isQuotaError({ status: thrown.status, code: thrown.code, type: thrown.type, message: thrown.message, param: null })) {
        await deps.accounts.coolDown(source.id, nextQuotaReset(now), `quota exhausted: ${thrown.message}`);
      } else if (thrown.status === 429) {
        const seconds = Number(thrown.headers['retry-after']);
        const wait = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_THROTTLE_MS;
        await deps.accounts.coolDown(source.id, now + wait, `throttled: ${thrown.message}`);
      } else if (['qwen_refresh_failed', 'qwen_oauth_unreachable', 'qwen_refresh_busy', 'store_unavailable'].includes(thrown.code ?? '')) {
        deps.logger.warn('account skipped: refresh failed', { requestId: ctx.id, account: source.id, error: thrown.message });
        const sources = await deps.accounts.sources();
        if (!Array.isArray(sources) || tried.size >= sources.length) throw thrown;
      } else {
        throw thrown;
      }
      deps.logger.info('retrying on another account', { requestId: ctx.id, account: source.id, code: thrown.code });
    }
  }
}

/**
 * This request used up the accounts: answer with the pool's verdict (status, Retry-After, which
 * account rests until when) but keep Qwen's own error type and code, e.g. insufficient_quota, which
 * clients and SDKs recognise.
 */
function explainExhausted(pool: GatewayError, last: GatewayError): GatewayError {
  return new GatewayError({
    status: pool.status,
    type: last.status === pool.status ? last.type : pool.type,
    code: last.status === pool.status ? last.code : pool.code,
    message: pool.status === 429 ? `${last.message} ${pool.message}` : pool.message,
    headers: pool.headers,
  });
}

/** A 429 without Retry-After rests the account this long (Qwen's limit is per minute). */
const DEFAULT_THROTTLE_MS = 10_000;

function totalTokens(usage: unknown): number {
  const total = (usage as { total_tokens?: unknown } | undefined)?.total_tokens;
  return typeof total === 'number' && Number.isFinite(total) ? total : 0;
}

/**
 * Sends the request to Qwen. A 401/403 that is not the quota error means the access token is no
 * longer good: refresh once past it and retry once (what Qwen Code does, protocol §5).
 */
async function callWithRefresh(
  source: TokenSource,
  body: ChatRequest,
  turn: Turn,
  deps: Deps,
  upstream: AbortController,
  ctx: RequestContext,
): Promise<Answer> {
  const now = () => deps.clock.now();
  let access = await timed(ctx, 'token', now, () => source.getAccess());
  let response = await timed(ctx, 'qwen', now, () => send(access, body, turn, deps, upstream));
  if (response.ok) return checkedStart(response, body, ctx, now);
  let info = await readUpstreamError(response);
  if (isAuthError(info)) {
    deps.logger.warn('Qwen rejected the access token; refreshing once', { requestId: ctx.id, account: source.id, status: info.status });
    access = await timed(ctx, 'token', now, () => source.getAccess({ rejected: access.token }));
    response = await timed(ctx, 'qwen', now, () => send(access, body, turn, deps, upstream));
    if (response.ok) return checkedStart(response, body, ctx, now);
    info = await readUpstreamError(response);
    if (isAuthError(info)) throw credentialsRejected(source.id, info);
  }
  throw upstreamGatewayError(info, passThroughHeaders(response));
}

/** How long a stream's first event is awaited before the gateway commits its headers regardless. */
const STREAM_START_PEEK_MS = 3_000;

/** Qwen's answer, ready to relay: for streams, with its start already checked for an error event. */
interface Answer {
  response: Response;
  source?: ByteSource;
}

/** For streams: an error event at the very start is an ordinary error (see peekStreamStart). */
async function checkedStart(response: Response, body: ChatRequest, ctx: RequestContext, now: () => number): Promise<Answer> {
  const stream = response.body;
  if (body.stream !== true || !stream) return { response };
  const peeked = await timed(ctx, 'qwen', now, () => peekStreamStart(stream, STREAM_START_PEEK_MS));
  if ('error' in peeked) throw peeked.error;
  return { response, source: peeked.source };
}

async function send(
  access: UpstreamAccess,
  body: ChatRequest,
  turn: Turn,
  deps: Deps,
  upstream: AbortController,
): Promise<Response> {
  const call = buildQwenRequest(body, access, turn.model, turn.ids);
  const timeout = setTimeout(() => upstream.abort('connect timeout'), deps.config.upstreamConnectTimeoutMs);
  try {
    return await deps.fetch(call.url, {
      method: 'POST',
      headers: call.headers,
      body: JSON.stringify(call.body),
      signal: upstream.signal,
    });
  } catch (error) {
    if (upstream.signal.aborted && upstream.signal.reason === 'connect timeout') {
      throw new GatewayError({
        status: 504,
        code: 'upstream_timeout',
        message: `Qwen did not answer within ${Math.round(deps.config.upstreamConnectTimeoutMs / 1000)} s (UPSTREAM_CONNECT_TIMEOUT_MS).`,
      });
    }
    if (upstream.signal.aborted) {
      throw new GatewayError({ status: 499, code: 'client_closed', message: 'The client went away before Qwen answered.' });
    }
    throw new GatewayError({
      status: 502,
      code: 'upstream_unreachable',
      message: `Qwen could not be reached (${error instanceof Error ? error.message : String(error)}).`,
      cause: error,
    });
  } finally {
    clearTimeout(timeout);
  }
}

function passThroughHeaders(response: Response): Record<string, string> | undefined {
  const retryAfter = response.headers.get('retry-after');
  return retryAfter ? { 'retry-after': retryAfter } : undefined;
}

/** Fresh credentials and still refused: telling the client "401" would blame its API key. */
function credentialsRejected(accountId: string, info: UpstreamErrorInfo): GatewayError {
  return new GatewayError({
    status: 503,
    type: 'server_error',
    code: 'qwen_credentials_rejected',
    message:
      `Qwen rejected freshly refreshed credentials of account ${accountId} (HTTP ${info.status}: ${info.message}). ` +
      "Qwen's OAuth free tier was discontinued on 2026-04-15; sign in again (`npm run login`) or use a Qwen API key (QWEN_API_KEY).",
    headers: { 'x-should-retry': 'false' },
  });
}
