/**
 * Where the relay reads Qwen's bytes from: a stream reader, or the start of one replayed after a
 * peek. Reading through this instead of another ReadableStream saves a stream layer (and its
 * per-chunk cost) on every chunk of every answer.
 */
export interface ByteSource {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}
