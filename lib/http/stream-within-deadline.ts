import { asGatewayError, type GatewayError } from '../errors.ts';
import type { StreamEncoder } from '../turn/stream-encoder.ts';
import { withinDeadline } from './within-deadline.ts';

const textEncoder = new TextEncoder();

/** The headers of every event stream the gateway answers (nothing between may buffer or compress). */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

export interface StreamDeadlineOptions {
  /** Commit the stream when Qwen's answer has not started after this long (Vercel: 25 s to start a response). */
  deadlineMs: number;
  /** How often a keep-alive comment goes out while committed and still waiting. */
  keepAliveMs: number;
  /** Called when the stream fails after it was committed (its status can no longer say so). */
  onLateError: (error: GatewayError) => void;
  /** The client went away while waiting: stop the upstream request. */
  onCancel: () => void;
  /**
   * The client protocol's framing, the same encoder the stream's relay will use: its opening, its
   * keep-alive (a comment for Chat Completions, `ping` for Anthropic, a real event for Responses)
   * and its in-band error. Its open() must give the opening once only (see openOnce).
   */
  encoder: Pick<StreamEncoder, 'open' | 'keepAlive' | 'fail'>;
}

/** An encoder whose opening is given once: by whichever of the deadline and the relay writes first. */
export function openOnce<T extends Pick<StreamEncoder, 'open'>>(encoder: T): T {
  let opened = false;
  const open = encoder.open.bind(encoder);
  encoder.open = () => (opened ? '' : ((opened = true), open()));
  return encoder;
}

/**
 * The streaming twin of jsonWithinDeadline. `start` is the event-stream response the handler would
 * answer with once Qwen's headers (and the stream's first checks) are in, or the error it would
 * throw. In time, that response (or error) is the answer, unchanged. Late, the stream is committed
 * at the deadline: a 200 with event-stream headers and keep-alive comments, then Qwen's stream when
 * it starts, or the error as an in-band SSE error event (what a stream that fails midway sends).
 */
export async function streamWithinDeadline(start: Promise<Response>, options: StreamDeadlineOptions): Promise<Response> {
  const first = await withinDeadline(start, options.deadlineMs);
  if ('value' in first) return first.value;
  const settled = first.late;

  let beat: ReturnType<typeof setInterval> | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let cancelled = false;
  const { encoder } = options;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(textEncoder.encode(encoder.open() + encoder.keepAlive()));
      beat = setInterval(() => controller.enqueue(textEncoder.encode(encoder.keepAlive())), options.keepAliveMs);
    },
    async pull(controller) {
      const outcome = await settled;
      clearInterval(beat);
      if (cancelled) return;
      if ('error' in outcome) {
        const error = asGatewayError(outcome.error);
        options.onLateError(error);
        controller.enqueue(textEncoder.encode(encoder.fail(error, { chunks: 0, error })));
        controller.close();
        return;
      }
      reader ??= outcome.value.body?.getReader();
      const next = reader ? await reader.read() : { done: true as const, value: undefined };
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      cancelled = true;
      clearInterval(beat);
      if (reader) return reader.cancel(reason);
      options.onCancel();
      // A stream that starts after the client left is not read by anyone: release it.
      void settled.then((outcome) => ('value' in outcome ? outcome.value.body?.cancel(reason) : undefined));
    },
  });
  return new Response(body, { status: 200, headers: { ...EVENT_STREAM_HEADERS } });
}
