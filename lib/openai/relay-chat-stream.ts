import type { ByteSource } from './byte-source.ts';
import { chatStreamEncoder } from './chat-stream-encoder.ts';
import { relayQwenStream, type RelayOptions as QwenRelayOptions } from '../turn/relay-qwen-stream.ts';

export type { StreamSummary } from '../turn/stream-encoder.ts';

export interface RelayOptions extends QwenRelayOptions {
  /** The client asked for stream_options.include_usage: only then does it get the usage-only chunk. */
  includeUsage: boolean;
}

/** Qwen's stream relayed as a Chat Completions stream. */
export function relayChatStream(input: ByteSource | ReadableStream<Uint8Array>, options: RelayOptions): ReadableStream<Uint8Array> {
  return relayQwenStream(input, chatStreamEncoder({ includeUsage: options.includeUsage }), options);
}
