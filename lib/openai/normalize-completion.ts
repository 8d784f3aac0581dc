import { splitThinkTag } from './stream-normalizer.ts';

/**
 * Brings Qwen's (DashScope's) chat completion objects to the shape OpenAI's schema requires, so
 * strict clients accept them. Everything else, including Qwen's extra fields such as
 * reasoning_content, passes through. Streams get the same rules, chunk by chunk and with per-stream
 * state, from createStreamNormalizer (stream-normalizer.ts).
 */

type Json = Record<string, unknown>;

/**
 * A non-stream chat.completion (normalised in place and returned):
 * - `<think>…</think>` leaked at the start of `content` moves to `reasoning_content`;
 * - `reasoning_content: ""`/`null` is removed (absent);
 * - tool calls get `type: "function"`, an id when missing, string arguments ("{}" when empty);
 *   `content` is null when the message only calls tools, and Qwen's "stop" becomes "tool_calls";
 * - `refusal: null`, `logprobs: null` where OpenAI's schema requires them;
 * - `system_fingerprint: null` is removed.
 */
export function normalizeCompletion(completion: Json): Json {
  dropNullFingerprint(completion);
  if (Array.isArray(completion.choices)) {
    for (const choice of completion.choices as Json[]) {
      const message = isObject(choice.message) ? choice.message : undefined;
      if (message) normalizeMessage(message, choice);
      if (!('logprobs' in choice)) choice.logprobs = null;
    }
  }
  return completion;
}

function normalizeMessage(message: Json, choice: Json): void {
  for (const field of ['reasoning_content', 'reasoning']) {
    if (message[field] === '' || message[field] === null) delete message[field];
  }
  if (typeof message.content === 'string') {
    const { content, reasoning } = splitThinkTag(message.content);
    if (reasoning !== '' || content !== message.content) {
      message.content = content;
      if (reasoning !== '') {
        message.reasoning_content = typeof message.reasoning_content === 'string' ? message.reasoning_content + reasoning : reasoning;
      }
    }
  }
  if (Array.isArray(message.tool_calls)) {
    if (message.tool_calls.length === 0) {
      delete message.tool_calls;
    } else {
      message.tool_calls = message.tool_calls.map(normalizeToolCall);
      // OpenAI sends content null for a turn that only calls tools; Qwen sends "".
      if (message.content === '' || message.content === undefined) message.content = null;
      if (choice.finish_reason === 'stop') choice.finish_reason = 'tool_calls';
    }
  }
  // OpenAI's ChatCompletionResponseMessage requires `refusal`; Qwen never sends one.
  if (!('refusal' in message)) message.refusal = null;
  if (message.content === undefined) message.content = null;
}

function normalizeToolCall(call: unknown): unknown {
  if (!isObject(call)) return call;
  const fn = isObject(call.function) ? call.function : {};
  const args = typeof fn.arguments === 'string' ? fn.arguments : fn.arguments != null ? JSON.stringify(fn.arguments) : '';
  return {
    ...call,
    id: typeof call.id === 'string' && call.id !== '' ? call.id : `call_${crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`,
    type: typeof call.type === 'string' ? call.type : 'function',
    // Clients JSON.parse the arguments; a no-argument call must still parse (OpenAI sends "{}").
    function: { ...fn, name: typeof fn.name === 'string' ? fn.name : '', arguments: args.trim() === '' ? '{}' : args },
  };
}

/** DashScope sends `system_fingerprint: null`; OpenAI's schema allows the field only as a string. */
function dropNullFingerprint(object: Json): void {
  if (object.system_fingerprint === null) delete object.system_fingerprint;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
