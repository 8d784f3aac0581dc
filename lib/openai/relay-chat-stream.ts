import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { GatewayError, toErrorEvent } from '../errors.ts';
import { classifyStreamEvent, statusFromComment } from './classify-stream-event.ts';
import { createStreamNormalizer } from './stream-normalizer.ts';

export interface StreamSummary {
  usage?: unknown;
  finishReason?: string;
  chunks: number;
  error?: GatewayError;
}

export interface RelayOptions {
  /** The client asked for stream_options.include_usage: only then does it get the usage-only chunk. */
  includeUsage: boolean;
  keepAliveMs: number;
  idleTimeoutMs: number;
  /** Cancels the upstream request (client went away, or the gateway gave up on Qwen). */
  abortUpstream: (reason: string) => void;
  onEnd: (summary: StreamSummary) => void;
}

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(': keep-alive\n\n');
const DONE = encoder.encode('data: [DONE]\n\n');

/**
 * Relays Qwen's SSE answer to the client, frame by frame, as soon as each frame is complete.
 * Frames pass through with their content as Qwen wrote it; the gateway only:
 * - brings each chunk to OpenAI's schema and hides Qwen's stream quirks (createStreamNormalizer:
 *   tool-call index collisions, accumulated text instead of deltas, leaked <think> tags);
 * - drops the usage-only chunk when the client did not ask for it (the gateway always asks Qwen);
 * - turns Qwen's in-band errors (an `error` object, DashScope `event:error` frames,
 *   `finish_reason:"error_finish"`) into OpenAI's error frame and ends the stream;
 * - sends `: keep-alive` comments while Qwen is silent, so clients and proxies wait for it to think;
 * - cuts an upstream that stays silent past the idle timeout;
 * - never lets a broken stream look finished: the OpenAI SDK takes a close without `[DONE]` as
 *   success, so an upstream that dies mid-answer ends with an error frame. A stream that did finish
 *   (a finish_reason was seen) but lost its `[DONE]` gets one.
 * The stream pulls from Qwen only as fast as the client reads, and cancelling it cancels Qwen's.
 */
export function relayChatStream(upstream: ReadableStream<Uint8Array>, options: RelayOptions): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  const summary: StreamSummary = { chunks: 0 };
  const normalizer = createStreamNormalizer();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let finished = false;
  let keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let errorStatus: number | undefined;
  let emitted = 0;
  const emit = (bytes: Uint8Array) => {
    emitted++;
    controller.enqueue(bytes);
  };

  const clearTimers = () => {
    clearTimeout(keepAliveTimer);
    clearTimeout(idleTimer);
  };
  const armTimers = () => {
    clearTimers();
    if (finished) return;
    const keepAlive = () => {
      if (finished) return;
      emit(KEEP_ALIVE);
      keepAliveTimer = setTimeout(keepAlive, options.keepAliveMs);
    };
    keepAliveTimer = setTimeout(keepAlive, options.keepAliveMs);
    idleTimer = setTimeout(() => {
      fail(
        new GatewayError({
          status: 504,
          code: 'upstream_idle_timeout',
          message: `Qwen sent nothing for ${Math.round(options.idleTimeoutMs / 1000)} s in the middle of the answer; the gateway gave up (UPSTREAM_IDLE_TIMEOUT_MS).`,
        }),
        'idle timeout',
      );
    }, options.idleTimeoutMs);
  };

  const end = (reason: string | undefined) => {
    if (finished) return;
    finished = true;
    clearTimers();
    controller.close();
    if (reason) {
      options.abortUpstream(reason);
      reader.cancel(reason).catch(() => {});
    }
    options.onEnd(summary);
  };
  const fail = (error: GatewayError, reason: string) => {
    if (finished) return;
    summary.error = error;
    emit(encoder.encode(toErrorEvent(error)));
    end(reason);
  };

  const onEvent = (event: EventSourceMessage) => {
    if (finished) return;
    const classified = classifyStreamEvent(event, errorStatus);
    if (classified.kind === 'done') {
      emit(DONE);
      end('done');
      return;
    }
    if (classified.kind === 'error') {
      fail(classified.error, classified.reason);
      return;
    }
    const { chunk } = classified;
    const choices = Array.isArray(chunk.choices) ? (chunk.choices as Array<Record<string, unknown>>) : [];
    if (chunk.usage) summary.usage = chunk.usage;
    for (const choice of choices) {
      if (typeof choice.finish_reason === 'string') summary.finishReason = choice.finish_reason;
    }
    if (choices.length === 0 && chunk.usage && !options.includeUsage) return;
    const normalized = normalizer.chunk(chunk);
    if (!normalized) return;
    summary.chunks++;
    emit(encoder.encode(`data: ${JSON.stringify(normalized)}\n\n`));
  };

  const parser = createParser({
    onEvent,
    onComment: (comment) => {
      errorStatus = statusFromComment(comment) ?? errorStatus;
    },
  });
  const decoder = new TextDecoder();

  const readOnce = async () => {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (error) {
      fail(
        new GatewayError({
          status: 502,
          code: 'upstream_stream_broken',
          message: `The connection to Qwen broke in the middle of the answer (${error instanceof Error ? error.message : String(error)}).`,
        }),
        'upstream read failed',
      );
      return;
    }
    if (finished) return;
    if (result.done) {
      parser.feed(decoder.decode());
      parser.reset({ consume: true });
      if (finished) return;
      if (summary.finishReason) {
        // Qwen sometimes ends a complete answer without [DONE] (protocol §6, quirk 9).
        emit(DONE);
        end(undefined);
      } else {
        fail(
          new GatewayError({
            status: 502,
            code: 'upstream_stream_incomplete',
            message: 'Qwen closed the stream before the answer was complete.',
          }),
          'incomplete',
        );
      }
      return;
    }
    armTimers();
    parser.feed(decoder.decode(result.value, { stream: true }));
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        armTimers();
      },
      async pull() {
        // A pull must enqueue something (or end the stream), or the stream stalls: keep reading
        // while Qwen's bytes complete no frame (a frame split across many network chunks).
        const before = emitted;
        while (!finished && emitted === before) await readOnce();
      },
      cancel(reason) {
        if (finished) return;
        finished = true;
        clearTimers();
        summary.error = new GatewayError({ status: 499, code: 'client_closed', message: 'The client went away.' });
        options.abortUpstream('client disconnected');
        reader.cancel(reason).catch(() => {});
        options.onEnd(summary);
      },
    },
    { highWaterMark: 0 },
  );
}
