import type { Deps } from '../deps.ts';
import { GatewayError } from '../errors.ts';
import type { RequestContext } from '../http/request-context.ts';
import { jsonWithinDeadline } from '../http/json-within-deadline.ts';
import { EVENT_STREAM_HEADERS, openOnce, streamWithinDeadline } from '../http/stream-within-deadline.ts';
import { normalizeCompletion } from '../openai/normalize-completion.ts';
import type { TokenSource } from '../accounts/token-source.ts';
import { callQwen, type QwenTurn } from './call-qwen.ts';
import { relayQwenStream } from './relay-qwen-stream.ts';
import type { StreamEncoder } from './stream-encoder.ts';

type Json = Record<string, unknown>;

/** One client protocol's rendering of an answer; what differs between the surfaces, and nothing else. */
export interface Surface {
  /** A whole answer: Qwen's completion, normalised to OpenAI's chat schema, in this protocol's shape. */
  completion(completion: Json): unknown;
  /** A fresh encoder for one streamed answer. */
  streamEncoder(): StreamEncoder;
  /** The body of an error in this protocol, for a failure after a non-stream answer was committed. */
  errorBody(error: GatewayError): unknown;
}

/**
 * The path every surface takes to Qwen and back: the account loop (callQwen), usage counting, the
 * log fields, the response-start deadline for slow whole answers, and the relay for streams. A
 * surface only says how its protocol words the answer.
 */
export async function serveQwenTurn(turn: QwenTurn, surface: Surface, request: Request, deps: Deps, ctx: RequestContext): Promise<Response> {
  ctx.fields.model = turn.model;
  turn = { ...turn, clientUserAgent: turn.clientUserAgent ?? request.headers.get('user-agent') };
  ctx.fields.stream = turn.stream;
  const upstream = new AbortController();
  request.signal?.addEventListener('abort', () => upstream.abort('client disconnected'), { once: true });
  const countUsage = (account: TokenSource, usage: unknown) => {
    ctx.fields.usage = usage;
    const flush = deps.accounts.recordUsage(account.id, totalTokens(usage));
    if (flush) deps.waitUntil(flush);
  };

  if (!turn.stream) {
    const answer = (async () => {
      const { account, response } = await callQwen(turn, deps, upstream, ctx);
      const completion = await readCompletion(response);
      countUsage(account, completion.usage);
      return surface.completion(normalizeCompletion(completion));
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
      errorBody: surface.errorBody,
    });
  }

  // The request's log line is written when the stream ends (or fails before it starts).
  let settle!: () => void;
  ctx.completion = new Promise<void>((resolve) => (settle = resolve));
  const encoder = openOnce(surface.streamEncoder());
  const start = (async () => {
    const { account, source } = await callQwen(turn, deps, upstream, ctx);
    if (!source) throw new GatewayError({ status: 502, code: 'upstream_bad_response', message: 'Qwen answered without a body.' });
    const relayed = relayQwenStream(source, encoder, {
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
    return new Response(relayed, { status: 200, headers: { ...EVENT_STREAM_HEADERS } });
  })();
  const deadlineMs = deps.config.responseStartTimeoutMs;
  const response = !deadlineMs
    ? start
    : streamWithinDeadline(start, {
        deadlineMs,
        keepAliveMs: deps.config.keepAliveMs,
        encoder,
        onLateError: (error) => {
          ctx.fields.status = error.status;
          ctx.fields.errorCode = error.code;
          settle();
        },
        onCancel: () => upstream.abort('client disconnected'),
      });
  return response.catch((error: unknown) => {
    settle();
    throw error;
  });
}

async function readCompletion(response: Response): Promise<Json> {
  const text = await response.text();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // reported below
  }
  throw new GatewayError({ status: 502, code: 'upstream_bad_response', message: 'Qwen answered with a body that is not a JSON object.' });
}

function totalTokens(usage: unknown): number {
  const total = (usage as { total_tokens?: unknown } | undefined)?.total_tokens;
  return typeof total === 'number' && Number.isFinite(total) ? total : 0;
}
