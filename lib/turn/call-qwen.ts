import type { Deps } from '../deps.ts';
import { GatewayError, deadCredentials } from '../errors.ts';
import { timed, type RequestContext } from '../http/request-context.ts';
import { peekStreamStart } from '../openai/peek-stream-start.ts';
import type { ByteSource } from '../openai/byte-source.ts';
import type { ChatRequest } from '../openai/validate-chat-request.ts';
import { buildQwenRequest } from '../qwen/build-qwen-request.ts';
import { isAuthError, readUpstreamError, upstreamGatewayError, type UpstreamErrorInfo } from '../qwen/upstream-error.ts';
import { nextQuotaReset } from '../accounts/account-ledger.ts';
import type { TokenSource, UpstreamAccess } from '../accounts/token-source.ts';

/**
 * One client request as Qwen will get it, whatever protocol the client spoke: a Chat Completions
 * body (the shape Qwen's compatible mode takes; buildQwenRequest shapes it the way Qwen Code does)
 * and the ids that keep Qwen's prompt cache warm.
 */
export interface QwenTurn {
  body: ChatRequest;
  model: string;
  stream: boolean;
  sessionId: string;
  promptId: string;
  /** The client's User-Agent, forwarded to plan endpoints (set by serveQwenTurn from the request). */
  clientUserAgent?: string | null;
}

/** Qwen's answer, ready to read or relay: for streams, with its start already checked for an error event. */
export interface QwenAnswer {
  account: TokenSource;
  response: Response;
  source?: ByteSource;
}

/**
 * Calls Qwen for a turn, trying the accounts in turn until one answers. What to do with a failure
 * follows from its kind alone (classified once, where it was first seen): an account that cannot
 * serve (quota, throttle, dead credentials) is taken out of rotation and the request moves on at
 * once; nothing has reached the client yet, so retrying is invisible to it. When no account can
 * serve, the pool says why (429 with Retry-After, or 503 when every account needs a new login).
 */
export async function callQwen(turn: QwenTurn, deps: Deps, upstream: AbortController, ctx: RequestContext): Promise<QwenAnswer> {
  const tried = new Set<string>();
  let last: GatewayError | undefined;
  for (;;) {
    const source = await deps.accounts.pick(tried, turn.model).catch((noneLeft: unknown) => {
      throw last && noneLeft instanceof GatewayError ? explainExhausted(noneLeft, last) : noneLeft;
    });
    tried.add(source.id);
    ctx.fields.account = source.id;
    try {
      return await callWithRefresh(source, turn, deps, upstream, ctx);
    } catch (thrown) {
      if (!(thrown instanceof GatewayError) || !(await restAccount(thrown, source, tried, deps, ctx))) throw thrown;
      last = thrown;
      deps.logger.info('retrying on another account', { requestId: ctx.id, account: source.id, code: thrown.code });
    }
  }
}

/** Takes an account that cannot serve out of rotation; true when the request may move to another. */
async function restAccount(error: GatewayError, source: TokenSource, tried: Set<string>, deps: Deps, ctx: RequestContext): Promise<boolean> {
  const now = deps.clock.now();
  switch (error.failure?.kind) {
    case 'credentials':
      await deps.accounts.needsRelogin(source, error.message);
      return true;
    case 'quota': {
      const resetAt = error.failure.resetAt ?? nextQuotaReset(now);
      await deps.accounts.coolDown(
        source.id,
        error.failure.window === '5h' ? await deps.accounts.fiveHourReset(source.id, resetAt) : resetAt,
        `quota exhausted${error.failure.window ? ` (${error.failure.window} window)` : ''}: ${error.message}`,
      );
      return true;
    }
    case 'throttle':
      await deps.accounts.coolDown(source.id, now + (error.failure.retryAfterMs ?? 0), `throttled: ${error.message}`);
      return true;
    case 'refresh_failed': {
      deps.logger.warn('account skipped: refresh failed', { requestId: ctx.id, account: source.id, error: error.message });
      const sources = await deps.accounts.sources();
      return Array.isArray(sources) && tried.size < sources.length;
    }
    default:
      return false;
  }
}

/**
 * This request used up the accounts: answer with the pool's verdict (status, Retry-After, which
 * account rests until when) but keep Qwen's own error type, code and kind, e.g. insufficient_quota,
 * which clients and SDKs recognise.
 */
function explainExhausted(pool: GatewayError, last: GatewayError): GatewayError {
  const same = last.status === pool.status;
  return new GatewayError({
    status: pool.status,
    type: same ? last.type : pool.type,
    code: same ? last.code : pool.code,
    message: pool.status === 429 ? `${last.message} ${pool.message}` : pool.message,
    headers: pool.headers,
    ...(same && last.failure ? { failure: last.failure } : {}),
  });
}

/**
 * Sends the request to Qwen. A 401/403 that is not the quota error means the access token is no
 * longer good: refresh once past it and retry once (what Qwen Code does, protocol §5).
 */
async function callWithRefresh(source: TokenSource, turn: QwenTurn, deps: Deps, upstream: AbortController, ctx: RequestContext): Promise<QwenAnswer> {
  const now = () => deps.clock.now();
  let access = await timed(ctx, 'token', now, () => source.getAccess());
  let response = await timed(ctx, 'qwen', now, () => send(access, turn, deps, upstream));
  if (response.ok) return checkedStart(source, response, turn, ctx, now);
  let info = await readUpstreamError(response);
  if (isAuthError(info)) {
    deps.logger.warn('Qwen rejected the access token; refreshing once', { requestId: ctx.id, account: source.id, status: info.status });
    access = await timed(ctx, 'token', now, () => source.getAccess({ rejected: access.token }));
    response = await timed(ctx, 'qwen', now, () => send(access, turn, deps, upstream));
    if (response.ok) return checkedStart(source, response, turn, ctx, now);
    info = await readUpstreamError(response);
    if (isAuthError(info)) throw credentialsRejected(source.id, info);
  }
  throw upstreamGatewayError(info, passThroughHeaders(response), deps.clock.now());
}

/** How long a stream's first event is awaited before the gateway commits its headers regardless. */
const STREAM_START_PEEK_MS = 3_000;

/** For streams: an error event at the very start is an ordinary error (see peekStreamStart). */
async function checkedStart(account: TokenSource, response: Response, turn: QwenTurn, ctx: RequestContext, now: () => number): Promise<QwenAnswer> {
  const stream = response.body;
  if (!turn.stream || !stream) return { account, response };
  const peeked = await timed(ctx, 'qwen', now, () => peekStreamStart(stream, STREAM_START_PEEK_MS));
  if ('error' in peeked) throw peeked.error;
  return { account, response, source: peeked.source };
}

async function send(access: UpstreamAccess, turn: QwenTurn, deps: Deps, upstream: AbortController): Promise<Response> {
  const call = buildQwenRequest(turn.body, access, turn.model, { sessionId: turn.sessionId, promptId: turn.promptId }, turn.clientUserAgent);
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
  return deadCredentials(
    'qwen_credentials_rejected',
    `Qwen rejected freshly refreshed credentials of account ${accountId} (HTTP ${info.status}: ${info.message}). ` +
      "Qwen's OAuth free tier was discontinued on 2026-04-15; sign in again (`npm run login`) or use a Qwen API key (QWEN_API_KEY).",
  );
}
