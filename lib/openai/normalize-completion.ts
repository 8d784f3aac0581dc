/**
 * Brings Qwen's (DashScope's) chat completion objects to the shape OpenAI's schema requires, so
 * strict clients accept them. Everything else, including Qwen's extra fields such as
 * reasoning_content, passes through.
 */

type Json = Record<string, unknown>;

/** A non-stream chat.completion. */
export function normalizeCompletion(completion: Json): Json {
  dropNullFingerprint(completion);
  if (Array.isArray(completion.choices)) {
    for (const choice of completion.choices as Json[]) {
      const message = choice.message as Json | undefined;
      // OpenAI's ChatCompletionResponseMessage requires `refusal`; Qwen never sends one.
      if (message && !('refusal' in message)) message.refusal = null;
      if (message && message.content === undefined) message.content = null;
      if (!('logprobs' in choice)) choice.logprobs = null;
    }
  }
  return completion;
}

/** One chat.completion.chunk of a stream. */
export function normalizeChunk(chunk: Json): Json {
  dropNullFingerprint(chunk);
  return chunk;
}

/** DashScope sends `system_fingerprint: null`; OpenAI's schema allows the field only as a string. */
function dropNullFingerprint(object: Json): void {
  if (object.system_fingerprint === null) delete object.system_fingerprint;
}
