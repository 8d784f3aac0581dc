type Json = Record<string, unknown>;

/** What a message answer carries besides Qwen's completion: its id and the model name the client asked for. */
export interface MessageIdentity {
  id: string;
  model: string;
  /** The client asked for thinking without its text (`thinking.display: "omitted"`). */
  omitThinking?: boolean;
}

export const newMessageId = (): string => `msg_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;

/**
 * Claude Code drops a thinking block that has no signature, or an empty one (clients-and-qwen §2.4).
 * Qwen's reasoning has none, so it gets this opaque one; it only ever comes back to this gateway,
 * which drops thinking blocks from the history it sends Qwen.
 */
export const THINKING_SIGNATURE = 'cXdlbi1lZGdlLWdhdGV3YXk6cXdlbi1yZWFzb25pbmc=';

/** A normalised chat completion as an Anthropic Message (non-streaming answer). */
export function chatToMessage(completion: Json, identity: MessageIdentity): Json {
  const choice = (Array.isArray(completion.choices) ? completion.choices[0] : undefined) as Json | undefined;
  const message = (choice?.message ?? {}) as Json;
  const content: Json[] = [];
  const reasoning = typeof message.reasoning_content === 'string' ? message.reasoning_content : '';
  if (reasoning !== '' && !identity.omitThinking) content.push({ type: 'thinking', thinking: reasoning, signature: THINKING_SIGNATURE });
  if (typeof message.content === 'string' && message.content !== '') content.push({ type: 'text', text: message.content, citations: null });
  for (const call of Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : []) {
    const fn = (call.function ?? {}) as Json;
    content.push(toolUseBlock(call.id, fn.name, parseInput(fn.arguments)));
  }
  const usage = anthropicUsage(completion.usage);
  return {
    id: identity.id,
    type: 'message',
    role: 'assistant',
    model: identity.model,
    content,
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: fullUsage(usage),
  };
}

/** A tool_use block as Anthropic's API writes it (a direct call: the client runs the tool). */
export function toolUseBlock(id: unknown, name: unknown, input: unknown): Json {
  return { type: 'tool_use', id: toolUseId(id), name: String(name ?? ''), input, caller: { type: 'direct' } };
}

/**
 * A Message's whole `usage`, every field Anthropic's SDK types declare present (Claude Code 2.1.79
 * broke on a proxy's usage that lacked cache_creation, clients-and-qwen §2.4).
 */
export function fullUsage(usage: AnthropicUsage): Json {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
    output_tokens_details: usage.output_tokens_details,
    server_tool_use: null,
    service_tier: 'standard',
    inference_geo: null,
    speed: null,
  };
}

/** Qwen's finish_reason as Anthropic's stop_reason. */
export function stopReason(finishReason: unknown): string {
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/**
 * Qwen's usage in Anthropic's terms: Anthropic's input_tokens excludes what was read from the
 * cache, which it reports apart (Qwen counts cached tokens inside prompt_tokens).
 */
export function anthropicUsage(usage: unknown): AnthropicUsage {
  const u = (typeof usage === 'object' && usage !== null ? usage : {}) as Json;
  const details = (typeof u.prompt_tokens_details === 'object' && u.prompt_tokens_details !== null ? u.prompt_tokens_details : {}) as Json;
  const completion = (typeof u.completion_tokens_details === 'object' && u.completion_tokens_details !== null ? u.completion_tokens_details : {}) as Json;
  const prompt = count(u.prompt_tokens);
  const cached = count(details.cached_tokens);
  const created = count(details.cache_creation_input_tokens);
  return {
    input_tokens: Math.max(0, prompt - cached - created),
    cache_creation_input_tokens: created,
    cache_read_input_tokens: cached,
    output_tokens: count(u.completion_tokens),
    output_tokens_details: typeof completion.reasoning_tokens === 'number' ? { thinking_tokens: completion.reasoning_tokens } : null,
    server_tool_use: null,
  };
}

/** The usage a message_delta carries (Anthropic's MessageDeltaUsage). */
export interface AnthropicUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
  output_tokens_details: { thinking_tokens: number } | null;
  server_tool_use: null;
}

/** Anthropic's SDKs and Claude Code expect tool ids of their own shape; Qwen's `call_…` ids are kept inside it. */
export function toolUseId(id: unknown): string {
  const raw = typeof id === 'string' && id !== '' ? id : crypto.randomUUID().replaceAll('-', '');
  return raw.startsWith('toolu_') ? raw : `toolu_${raw}`;
}

/** Tool arguments as the object Anthropic's `input` is; arguments that are not a JSON object are kept under `raw`. */
function parseInput(args: unknown): unknown {
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : { raw: args };
  } catch {
    return { raw: args };
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
