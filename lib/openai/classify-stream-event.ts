import type { EventSourceMessage } from 'eventsource-parser';
import { GatewayError } from '../errors.ts';
import { parseUpstreamError, upstreamGatewayError } from '../qwen/upstream-error.ts';
import { classifyUpstreamFailure } from '../qwen/upstream-failure.ts';

export type StreamEvent =
  | { kind: 'done' }
  | { kind: 'chunk'; chunk: Record<string, unknown> }
  | { kind: 'error'; error: GatewayError; reason: string };

/**
 * What one SSE event from Qwen means. Qwen reports some failures inside a 200 stream (protocol §5):
 * a DashScope `event:error` frame (its HTTP status in a preceding `:HTTP_STATUS/429` comment), a
 * chunk carrying an `error` object, or a chunk with `finish_reason: "error_finish"` whose text is
 * the error ("Throttling: TPM(1/1)"). All of them are errors here, never answer text.
 */
export function classifyStreamEvent(event: EventSourceMessage, commentStatus: number | undefined): StreamEvent {
  if (event.data === '[DONE]') return { kind: 'done' };
  if (event.event === 'error') return { kind: 'error', error: upstreamGatewayError(parseUpstreamError(commentStatus ?? 500, event.data)), reason: 'upstream error frame' };
  let chunk: Record<string, unknown>;
  try {
    chunk = JSON.parse(event.data);
  } catch {
    return {
      kind: 'error',
      error: new GatewayError({ status: 502, code: 'upstream_bad_frame', message: 'Qwen sent a stream frame that is not JSON.' }),
      reason: 'bad frame',
    };
  }
  if (chunk.error !== undefined && chunk.error !== null) {
    return { kind: 'error', error: upstreamGatewayError(parseUpstreamError(commentStatus ?? 500, event.data)), reason: 'upstream error object' };
  }
  if (Array.isArray(chunk.choices)) {
    for (const choice of chunk.choices as Array<Record<string, unknown>>) {
      if (choice.finish_reason !== 'error_finish') continue;
      const delta = choice.delta as { content?: unknown } | undefined;
      const text = typeof delta?.content === 'string' && delta.content ? delta.content : 'Qwen ended the answer with an error.';
      const status = /throttl|rate|quota/i.test(text) ? 429 : 500;
      const failure = classifyUpstreamFailure({ status, message: text, type: null, code: null, param: null });
      const error = new GatewayError({ status, code: 'upstream_error_finish', message: text, failure });
      return { kind: 'error', error, reason: 'error_finish' };
    }
  }
  return { kind: 'chunk', chunk };
}

/** DashScope puts the HTTP status of an in-band error in a comment line: ":HTTP_STATUS/429". */
export function statusFromComment(comment: string): number | undefined {
  const match = /HTTP_STATUS\/(\d{3})/.exec(comment);
  return match ? Number(match[1]) : undefined;
}
