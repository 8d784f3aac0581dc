import { toErrorEvent } from '../errors.ts';
import type { StreamEncoder } from '../turn/stream-encoder.ts';

/**
 * Chat Completions' side of a stream: Qwen's chunks are already chat chunks, so they go out as they
 * are, plain deltas as Qwen's own text (only `"system_fingerprint":null` cut out, which OpenAI's
 * schema refuses); `[DONE]` ends a success, OpenAI's error frame a failure, SSE comments keep the
 * connection alive. The usage-only chunk, which the gateway always asks Qwen for, reaches only the
 * clients that asked for it (stream_options.include_usage).
 */
export function chatStreamEncoder(options: { includeUsage: boolean }): StreamEncoder {
  return {
    open: () => '',
    plainDelta: (_field, data) => `data: ${withoutNullFingerprint(data)}\n\n`,
    chunk(chunk) {
      const choices = chunk.choices;
      if (!options.includeUsage && chunk.usage && Array.isArray(choices) && choices.length === 0) return '';
      return `data: ${JSON.stringify(chunk)}\n\n`;
    },
    finish: () => DONE,
    fail: (error) => toErrorEvent(error),
    keepAlive: () => KEEP_ALIVE,
  };
}

const KEEP_ALIVE = ': keep-alive\n\n';
const DONE = 'data: [DONE]\n\n';

/** OpenAI's schema allows system_fingerprint only as a string; DashScope sends null. */
function withoutNullFingerprint(data: string): string {
  const at = data.indexOf('"system_fingerprint":null');
  if (at < 0) return data;
  const end = at + '"system_fingerprint":null'.length;
  if (data[at - 1] === ',') return data.slice(0, at - 1) + data.slice(end);
  if (data[end] === ',') return data.slice(0, at) + data.slice(end + 1);
  return data;
}
