import type { Deps } from '../deps.ts';
import { GatewayError } from '../errors.ts';
import type { RequestContext } from '../http/request-context.ts';
import { readJsonBody } from '../http/read-json-body.ts';
import { validateChatRequest } from '../openai/validate-chat-request.ts';
import { relayChatStream } from '../openai/relay-chat-stream.ts';
import { normalizeCompletion } from '../openai/normalize-completion.ts';
import { buildQwenRequest } from '../qwen/build-qwen-request.ts';
import { isAuthError, readUpstreamError, upstreamGatewayError, type UpstreamErrorInfo } from '../qwen/upstream-error.ts';
import type { TokenSource, UpstreamAccess } from '../accounts/token-source.ts';
import type { ChatRequest } from '../openai/validate-chat-request.ts';

/** POST /v1/chat/completions */
export async function chatCompletions(request: Request, deps: Deps, ctx: RequestContext): Promise<Response> {
  const body = validateChatRequest(await readJsonBody(request, deps.config.maxBodyBytes));
  const model = typeof body.model === 'string' ? body.model : deps.config.defaultModel;
  const stream = body.stream === true;
  ctx.fields.model = model;
  ctx.fields.stream = stream;

  const source = await deps.accounts.pick();
  ctx.fields.account = source.id;
  const upstream = new AbortController();
  request.signal?.addEventListener('abort', () => upstream.abort('client disconnected'), { once: true });

  const response = await callWithRefresh(source, body, model, deps, upstream, ctx);
  ctx.fields.upstreamMs = deps.clock.now() - ctx.startedAt;

  if (!stream) {
    const text = await response.text();
    let completion: Record<string, unknown>;
    try {
      completion = JSON.parse(text);
    } catch {
      throw new GatewayError({ status: 502, code: 'upstream_bad_response', message: 'Qwen answered with a body that is not JSON.' });
    }
    ctx.fields.usage = completion.usage;
    return Response.json(normalizeCompletion(completion), { status: 200 });
  }

  if (!response.body) throw new GatewayError({ status: 502, code: 'upstream_bad_response', message: 'Qwen answered without a body.' });
  let settle!: () => void;
  ctx.completion = new Promise<void>((resolve) => (settle = resolve));
  const relayed = relayChatStream(response.body, {
    includeUsage: (body.stream_options as { include_usage?: unknown } | null | undefined)?.include_usage === true,
    keepAliveMs: deps.config.keepAliveMs,
    idleTimeoutMs: deps.config.upstreamIdleTimeoutMs,
    abortUpstream: (reason) => upstream.abort(reason),
    onEnd: (summary) => {
      ctx.fields.usage = summary.usage;
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

/**
 * Sends the request to Qwen. A 401/403 that is not the quota error means the access token is no
 * longer good: refresh once past it and retry once (what Qwen Code does, protocol §5).
 */
async function callWithRefresh(
  source: TokenSource,
  body: ChatRequest,
  model: string,
  deps: Deps,
  upstream: AbortController,
  ctx: RequestContext,
): Promise<Response> {
  let access = await source.getAccess();
  let response = await send(access, body, model, deps, upstream);
  if (response.ok) return response;
  let info = await readUpstreamError(response);
  if (isAuthError(info)) {
    deps.logger.warn('Qwen rejected the access token; refreshing once', { requestId: ctx.id, account: source.id, status: info.status });
    access = await source.getAccess({ rejected: access.token });
    response = await send(access, body, model, deps, upstream);
    if (response.ok) return response;
    info = await readUpstreamError(response);
    if (isAuthError(info)) throw credentialsRejected(source.id, info);
  }
  throw upstreamGatewayError(info, passThroughHeaders(response));
}

async function send(
  access: UpstreamAccess,
  body: ChatRequest,
  model: string,
  deps: Deps,
  upstream: AbortController,
): Promise<Response> {
  const call = buildQwenRequest(body, access, model);
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
