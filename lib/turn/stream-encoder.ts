import type { GatewayError } from '../errors.ts';

export interface StreamSummary {
  usage?: unknown;
  finishReason?: string;
  chunks: number;
  error?: GatewayError;
}

/**
 * One client protocol's side of a streamed answer: Qwen's events, already normalised to OpenAI
 * chat chunks (see createStreamNormalizer), in; that protocol's SSE text out. The relay owns the
 * reading, timing and failure handling; an encoder only words what happened, and keeps whatever
 * per-stream state its protocol needs (open content blocks, sequence numbers).
 */
export interface StreamEncoder {
  /** What opens the stream before anything of Qwen's arrives (e.g. Anthropic's message_start). */
  open(): string;
  /**
   * A chunk carrying only a piece of `field`, still as Qwen's raw JSON text (`data`): the fast path,
   * taken for most of an answer. Read the text with plainDeltaLiteral, never with JSON.parse.
   */
  plainDelta(field: 'content' | 'reasoning_content', data: string): string;
  /** Any other chunk, normalised. */
  chunk(chunk: Record<string, unknown>): string;
  /** Qwen finished the answer: whatever closes the stream as a success. */
  finish(summary: StreamSummary): string;
  /** The answer failed after the headers went out: the protocol's in-band error, sent last. */
  fail(error: GatewayError, summary: StreamSummary): string;
  /** Sent while Qwen is silent, so clients and proxies keep waiting. */
  keepAlive(): string;
}

/**
 * The JSON string literal (quotes included) of a plain delta's text, cut from Qwen's frame without
 * parsing it: `{"choices":[{"delta":{"content":"Hi \"you\""},…` gives `"Hi \"you\""`. A quote
 * preceded by an odd number of backslashes is escaped and does not end the string.
 */
export function plainDeltaLiteral(field: 'content' | 'reasoning_content', data: string): string {
  const key = field === 'content' ? '"delta":{"content":"' : '"reasoning_content":"';
  const start = data.indexOf(key) + key.length - 1;
  let end = start;
  for (;;) {
    end = data.indexOf('"', end + 1);
    if (end < 0) return '""';
    let backslashes = 0;
    while (data.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return data.slice(start, end + 1);
  }
}
