import { asGatewayError, type GatewayError } from '../errors.ts';
import { withinDeadline } from './within-deadline.ts';

/** While committed early, a space every few seconds keeps the connection visibly alive. */
const HEARTBEAT_MS = 5_000;
const encoder = new TextEncoder();

export interface DeadlineOptions {
  /** Commit to a 200 when no answer is ready after this long (Vercel's Edge limit to start a response is 25 s). */
  deadlineMs: number;
  /** Called when the answer fails after the 200 was committed (the status can no longer say so). */
  onLateError: (error: GatewayError) => void;
  /** The client went away while waiting: stop the upstream request. */
  onCancel: () => void;
  /** The body a late failure is written as, in the client's protocol (OpenAI's error object by default). */
  errorBody?: (error: GatewayError) => unknown;
}

/**
 * Answers a non-streaming request with a JSON body, even when the answer takes longer than the host
 * lets a function wait before its first byte. If the answer is ready in time, this is a plain JSON
 * response with the right status. If not, it commits to 200, sends leading whitespace (which JSON
 * allows, so every client still parses the body) until the answer is complete, then the JSON.
 *
 * The trade-off, documented for operators: once committed, an upstream failure can no longer change
 * the status code; the body is then the protocol's error object (OpenAI's {"error":{...}}) under a 200.
 */
export async function jsonWithinDeadline(answer: Promise<unknown>, options: DeadlineOptions): Promise<Response> {
  const first = await withinDeadline(answer, options.deadlineMs);
  if ('value' in first) return Response.json(first.value);
  const settled = first.late;

  let beat: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(' '));
      beat = setInterval(() => controller.enqueue(encoder.encode(' ')), HEARTBEAT_MS);
      void settled.then((outcome) => {
        clearInterval(beat);
        let text: string;
        if ('error' in outcome) {
          const error = asGatewayError(outcome.error);
          options.onLateError(error);
          text = JSON.stringify(options.errorBody ? options.errorBody(error) : error.toJSON());
        } else {
          text = JSON.stringify(outcome.value);
        }
        try {
          controller.enqueue(encoder.encode(text));
          controller.close();
        } catch {
          // The client left already (cancel ran); there is nobody to tell.
        }
      });
    },
    cancel() {
      clearInterval(beat);
      options.onCancel();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
}
