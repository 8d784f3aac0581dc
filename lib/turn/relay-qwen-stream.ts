import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { GatewayError } from '../errors.ts';
import { classifyStreamEvent, statusFromComment } from '../openai/classify-stream-event.ts';
import { createStreamNormalizer, type StreamNormalizer } from '../openai/stream-normalizer.ts';
import type { ByteSource } from '../openai/byte-source.ts';
import type { StreamEncoder, StreamSummary } from './stream-encoder.ts';

export type { StreamSummary } from './stream-encoder.ts';

export interface RelayOptions {
  keepAliveMs: number;
  idleTimeoutMs: number;
  /** Cancels the upstream request (client went away, or the gateway gave up on Qwen). */
  abortUpstream: (reason: string) => void;
  onEnd: (summary: StreamSummary) => void;
}

const textEncoder = new TextEncoder();
const STREAMING = { stream: true } as const;

/**
 * Relays Qwen's SSE answer to the client as soon as each frame is complete, in the client's own
 * protocol (the encoder's). Whatever the protocol, the relay:
 * - brings each chunk to OpenAI's chat schema and hides Qwen's stream quirks (createStreamNormalizer:
 *   tool-call index collisions, accumulated text instead of deltas, leaked <think> tags) before the
 *   encoder sees it;
 * - turns Qwen's in-band errors (an `error` object, DashScope `event:error` frames,
 *   `finish_reason:"error_finish"`) into the protocol's error event and ends the stream;
 * - sends the protocol's keep-alive while Qwen is silent, so clients and proxies wait for it to think;
 * - cuts an upstream that stays silent past the idle timeout;
 * - never lets a broken stream look finished: an upstream that dies mid-answer ends with an error
 *   event. A stream that did finish (a finish_reason was seen) but lost its `[DONE]` is finished.
 * The stream pulls from Qwen only as fast as the client reads, and cancelling it cancels Qwen's.
 *
 * Cost matters here: a 16k-token answer is about 4,000 chunks, and Cloudflare's free plan allows
 * 10 ms of CPU per request. So the frames one upstream read completes leave in one write, the
 * timers are one timer checked against timestamps (not re-armed per read), and once the answer is
 * plain text (see canPassThrough), a plain content delta is passed on as Qwen's own text with only
 * `"system_fingerprint":null` cut out, never parsed and re-serialised.
 */
export function relayQwenStream(
  input: ByteSource | ReadableStream<Uint8Array>,
  encoder: StreamEncoder,
  options: RelayOptions,
): ReadableStream<Uint8Array> {
  const upstream: ByteSource = 'getReader' in input ? input.getReader() : input;
  const summary: StreamSummary = { chunks: 0 };
  const normalizer = createStreamNormalizer();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let finished = false;
  let errorStatus: number | undefined;
  /** Frames completed by the current upstream read, written together. */
  let out = encoder.open();
  let lastUpstream = Date.now();
  let lastWrite = lastUpstream;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    if (out === '') return false;
    controller.enqueue(textEncoder.encode(out));
    out = '';
    lastWrite = Date.now();
    return true;
  };

  /** One timer for both jobs: it wakes when the next keep-alive or the idle deadline is due. */
  const schedule = () => {
    const now = Date.now();
    const due = Math.min(lastWrite + options.keepAliveMs, lastUpstream + options.idleTimeoutMs);
    timer = setTimeout(tick, Math.max(0, due - now));
  };
  const tick = () => {
    if (finished) return;
    const now = Date.now();
    if (now - lastUpstream >= options.idleTimeoutMs) {
      fail(
        new GatewayError({
          status: 504,
          code: 'upstream_idle_timeout',
          message: `Qwen sent nothing for ${Math.round(options.idleTimeoutMs / 1000)} s in the middle of the answer; the gateway gave up (UPSTREAM_IDLE_TIMEOUT_MS).`,
        }),
        'idle timeout',
      );
      return;
    }
    if (now - lastWrite >= options.keepAliveMs) {
      out += encoder.keepAlive();
      flush();
    }
    schedule();
  };

  const end = (reason: string | undefined) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    flush();
    controller.close();
    if (reason) {
      options.abortUpstream(reason);
      upstream.cancel(reason).catch(() => {});
    }
    options.onEnd(summary);
  };
  const fail = (error: GatewayError, reason: string) => {
    if (finished) return;
    summary.error = error;
    out += encoder.fail(error, summary);
    end(reason);
  };

  const onEvent = (event: EventSourceMessage) => {
    if (finished) return;
    if (event.event === undefined) {
      const field = plainDeltaField(event.data, normalizer);
      if (field) {
        summary.chunks++;
        out += encoder.plainDelta(field, event.data);
        return;
      }
    }
    const classified = classifyStreamEvent(event, errorStatus);
    if (classified.kind === 'done') {
      out += encoder.finish(summary);
      // Qwen's stream is complete: nothing to cancel, its body ends by itself.
      end(undefined);
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
    const normalized = normalizer.chunk(chunk);
    if (!normalized) return;
    summary.chunks++;
    out += encoder.chunk(normalized);
  };

  const parser = createParser({
    onEvent,
    onComment: (comment) => {
      errorStatus = statusFromComment(comment) ?? errorStatus;
    },
  });
  const decoder = new TextDecoder();

  /** Reads once from Qwen; true when something was written to the client or the stream ended. */
  const readOnce = async (): Promise<boolean> => {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await upstream.read();
    } catch (error) {
      fail(
        new GatewayError({
          status: 502,
          code: 'upstream_stream_broken',
          message: `The connection to Qwen broke in the middle of the answer (${error instanceof Error ? error.message : String(error)}).`,
        }),
        'upstream read failed',
      );
      return true;
    }
    if (finished) return true;
    if (result.done) {
      parser.feed(decoder.decode());
      parser.reset({ consume: true });
      if (finished) return true;
      if (summary.finishReason) {
        // Qwen sometimes ends a complete answer without [DONE] (protocol §6, quirk 9).
        out += encoder.finish(summary);
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
      return true;
    }
    parser.feed(decoder.decode(result.value, STREAMING));
    // One clock read per upstream read: the frames it completes leave at the same moment.
    lastUpstream = Date.now();
    if (out === '') return finished;
    controller.enqueue(textEncoder.encode(out));
    out = '';
    lastWrite = lastUpstream;
    return true;
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        schedule();
      },
      async pull() {
        // A pull must write something (or end the stream), or the stream stalls: keep reading
        // while Qwen's bytes complete no frame (a frame split across many network chunks).
        while (!(await readOnce()));
      },
      cancel(reason) {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        summary.error = new GatewayError({ status: 499, code: 'client_closed', message: 'The client went away.' });
        options.abortUpstream('client disconnected');
        upstream.cancel(reason).catch(() => {});
        options.onEnd(summary);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * A chunk that carries nothing but a piece of content (or, for a thinking model, of
 * reasoning_content with content null): no tool calls, finish reason, usage, error or role, and
 * nothing the normalizer still has to watch. The checks are on the raw JSON text and can only err
 * towards the slow path: inside a JSON string every quote is escaped, so `"tool_calls"` with both
 * quotes bare can only be the key itself (at worst a string's closing quote completes it, which
 * sends the chunk the careful way).
 */
function plainDeltaField(data: string, normalizer: StreamNormalizer): 'content' | 'reasoning_content' | undefined {
  if (!data.includes('"finish_reason":null')) return undefined;
  if (data.includes('"delta":{"content":"')) {
    return !NOT_PLAIN_CONTENT.test(data) && normalizer.canPassThrough('content') ? 'content' : undefined;
  }
  // A thinking model's reasoning, as DashScope sends it: content null, the text in reasoning_content.
  if (data.includes('"delta":{"content":null,"reasoning_content":"')) {
    return !NOT_PLAIN_REASONING.test(data) && normalizer.canPassThrough('reasoning_content') ? 'reasoning_content' : undefined;
  }
  return undefined;
}

/** Keys that need the careful path, each set in one scan of the frame. */
const NOT_PLAIN_CONTENT = /"tool_calls"|"reasoning|"role"|"error|"usage":\{|"index":1/;
const NOT_PLAIN_REASONING = /"tool_calls"|"reasoning"|"role"|"error|"usage":\{|"index":1/;
