import { createParser } from 'eventsource-parser';
import { GatewayError } from '../errors.ts';
import { classifyStreamEvent, statusFromComment, type StreamEvent } from './classify-stream-event.ts';
import type { ByteSource } from './byte-source.ts';

/**
 * Reads the start of Qwen's 200 stream, up to its first event, before the gateway commits its own
 * headers. DashScope and Coding Plan report throttling and quota as an error event at the very
 * start of a 200 stream; caught here, it is still an ordinary error with its real status (429),
 * which the client sees as such and which lets the request move to another account. The bytes read
 * are replayed, so the relay sees the stream unchanged.
 *
 * Only the first event is waited for, and at most `maxWaitMs`: a model that is slow to start must
 * not keep the client from its headers (and from the keep-alives that follow them).
 */
export async function peekStreamStart(
  body: ReadableStream<Uint8Array>,
  maxWaitMs: number,
): Promise<{ source: ByteSource } | { error: GatewayError }> {
  const reader = body.getReader();
  const buffered: Uint8Array[] = [];
  const decoder = new TextDecoder();
  let first: StreamEvent | undefined;
  let commentStatus: number | undefined;
  const parser = createParser({
    onEvent: (event) => {
      first ??= classifyStreamEvent(event, commentStatus);
    },
    onComment: (comment) => {
      commentStatus = statusFromComment(comment) ?? commentStatus;
    },
  });

  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  let ended = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), maxWaitMs)));
  try {
    while (!first) {
      pending ??= reader.read();
      const result = await Promise.race([pending, timeout]);
      if (result === 'timeout') break;
      pending = undefined;
      if (result.done) {
        ended = true;
        break;
      }
      buffered.push(result.value);
      parser.feed(decoder.decode(result.value, { stream: true }));
    }
  } catch (error) {
    return {
      error: new GatewayError({
        status: 502,
        code: 'upstream_stream_broken',
        message: `The connection to Qwen broke before the answer started (${error instanceof Error ? error.message : String(error)}).`,
      }),
    };
  } finally {
    clearTimeout(timer);
  }
  if (first?.kind === 'error') {
    await reader.cancel().catch(() => {});
    return { error: first.error };
  }

  // The bytes read so far go first, then the rest of Qwen's stream, straight from its reader.
  const source: ByteSource = {
    async read() {
      const next = buffered.shift();
      if (next) return { done: false, value: next };
      if (ended) return { done: true, value: undefined };
      const result = await (pending ?? reader.read());
      pending = undefined;
      return result;
    },
    cancel: (reason) => reader.cancel(reason),
  };
  return { source };
}
