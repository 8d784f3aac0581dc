import { cleanToolSchema } from './clean-tool-schema.ts';
import { DEFAULT_VISION_MODEL, lookupModel, type ModelLimits } from './model-limits.ts';

type Json = Record<string, unknown>;

export interface ShapeOptions {
  stream: boolean;
  /**
   * The account is a Qwen OAuth (Qwen Code) account. Only then does the body get what Qwen Code
   * adds for its portal: `metadata`, `cache_control` markers and a leading system message.
   */
  oauth: boolean;
  /** Qwen Code's per-session id (`metadata.sessionId`). */
  sessionId: string;
  /** Qwen Code's per-prompt id (`metadata.promptId`). */
  promptId: string;
  /**
   * Model that receives requests carrying images when the requested model cannot read them;
   * undefined means DEFAULT_VISION_MODEL, null turns rerouting off.
   */
  visionModel?: string | null;
  modelLimits: ModelLimits;
}

/**
 * OpenAI fields Qwen refuses or that mean nothing to it, dropped instead of forwarded:
 * - `store`: pi-free's portal notes list it as unsupported (protocol §6); Qwen stores nothing.
 * - `service_tier`, `prediction`, `web_search_options`, `prompt_cache_key`,
 *   `prompt_cache_retention`, `safety_identifier`, `verbosity`: OpenAI-only knobs (billing tier,
 *   predicted outputs, OpenAI's search models, OpenAI's cache routing, abuse ids, GPT-5
 *   verbosity) with no Qwen counterpart; forwarding them can only earn a 400.
 * - `max_completion_tokens`: Qwen reads `max_tokens` only (moved there first).
 * - `reasoning_effort`, `reasoning`: mapped to `enable_thinking`/`thinking_budget` first; the
 *   portal does not support `reasoning_effort` (pi-free) and DashScope refuses it together with
 *   `thinking_budget` (Qwen Code's `dropConflictingThinkingKnobs`).
 * Kept on purpose: `parallel_tool_calls`, `response_format`, `seed`, `logprobs`, `n`, `user`
 * (DashScope's compatible mode documents or tolerates them), `modalities`/`audio` (DashScope uses
 * the same names for its Omni models; no source shows a refusal).
 */
export const DROPPED_FIELDS: readonly string[] = [
  'store',
  'service_tier',
  'prediction',
  'web_search_options',
  'prompt_cache_key',
  'prompt_cache_retention',
  'safety_identifier',
  'verbosity',
];

/**
 * OpenAI reasoning effort → Qwen's thinking switch (what aptdnfapt/qwen-code-oai-proxy does):
 * `high` thinks without a budget, `low`/`medium` with 1024/8192 thinking tokens, `none`/`minimal`
 * not at all. `xhigh` is treated as `high`. Unknown values are ignored rather than refused.
 */
const EFFORT: Record<string, { enable_thinking: boolean; thinking_budget?: number }> = {
  none: { enable_thinking: false },
  minimal: { enable_thinking: false },
  low: { enable_thinking: true, thinking_budget: 1024 },
  medium: { enable_thinking: true, thinking_budget: 8192 },
  high: { enable_thinking: true },
  xhigh: { enable_thinking: true },
};

/**
 * Qwen Code's portal expects a leading system message (aptdnfapt PR #14 cured the portal's 400
 * "bad request" that way, and Qwen Code always sends one). When the client sent none, this one is
 * added: the generic prompt of Qwen's own examples (and Qwen2's chat-template default), which adds
 * no instruction of its own. The prompt-injection route other proxies took (Qwen Code's 22 KB
 * system prompt) would change how the model behaves; this does not.
 */
export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant.';

const EPHEMERAL = { type: 'ephemeral' } as const;

/**
 * Brings an upstream chat body (already through toQwenMessages) to the shape Qwen Code sends
 * (protocol §4). Pure: returns a new object; the client's objects are copied where they change and
 * never mutated.
 */
export function shapeQwenBody(body: Json, options: ShapeOptions): Json {
  const out: Json = { ...body };
  for (const field of DROPPED_FIELDS) delete out[field];

  const hadMessages = Array.isArray(out.messages);
  let messages = hadMessages ? (out.messages as unknown[]).map(developerToSystem) : [];

  // Images go to a model that can read them (Qwen Code's vision auto-switch).
  let model = typeof out.model === 'string' ? out.model : '';
  if (options.visionModel !== null && hasImages(messages) && !lookupModel(options.modelLimits, model)?.vision) {
    model = options.visionModel ?? DEFAULT_VISION_MODEL;
    out.model = model;
  }
  const info = lookupModel(options.modelLimits, model);

  applyReasoningEffort(out);
  // Thinking switches only where the model has them: an instruct model (qwen3-coder-*) has none, and
  // providers that check refuse them; a thinking-only model refuses being switched off.
  if (info?.thinking === 'no' && out.enable_thinking !== undefined) {
    delete out.enable_thinking;
    delete out.thinking_budget;
  } else if (info?.thinking === 'only' && out.enable_thinking === false) {
    delete out.enable_thinking;
  }

  // Qwen reads `max_tokens` only, and refuses one above the model's ceiling: clamp instead of failing.
  const { max_completion_tokens } = out;
  delete out.max_completion_tokens;
  if (out.max_tokens == null && typeof max_completion_tokens === 'number') out.max_tokens = max_completion_tokens;
  if (typeof out.max_tokens === 'number' && info?.outputTokens !== undefined && out.max_tokens > info.outputTokens) {
    out.max_tokens = info.outputTokens;
  }

  // The gateway always asks for usage (its own accounting); the relay decides what the client sees.
  if (options.stream) {
    out.stream = true;
    out.stream_options = { ...(isObject(out.stream_options) ? out.stream_options : {}), include_usage: true };
  } else {
    delete out.stream_options;
  }

  let tools = shapeTools(out);

  // Qwen's thinking models answer a forced tool choice ("required" or a named function) with a 400
  // while thinking is on (clients-and-qwen §7.6: oh-my-pi #886, eino #994, 9router PR #551). `auto`
  // keeps the tools offered and the thinking on, where dropping either would change the answer more.
  if (out.enable_thinking === true && (out.tool_choice === 'required' || isObject(out.tool_choice))) out.tool_choice = 'auto';

  // Qwen Code sends vision models `vl_high_resolution_images: true`; a client's explicit value wins.
  if (info?.vision && out.vl_high_resolution_images === undefined) out.vl_high_resolution_images = true;

  if (options.oauth) {
    out.metadata = { sessionId: options.sessionId, promptId: options.promptId };
    // Only when there is none at all: a second, invented system prompt would compete with the
    // client's own, wherever the client put it.
    if (!messages.some((message) => isObject(message) && message.role === 'system')) {
      messages = [{ role: 'system', content: DEFAULT_SYSTEM_PROMPT }, ...messages];
    }
    // A client that placed its own cache markers (Anthropic-style routers do) keeps them: adding
    // more could exceed the number of breakpoints Qwen honours.
    if (!hasCacheControl(messages, tools)) {
      ({ messages, tools } = addCacheControl(messages, tools, options.stream));
    }
  }

  if (hadMessages || messages.length > 0) out.messages = messages;
  if (tools) out.tools = tools;
  return out;
}

function developerToSystem(message: unknown): unknown {
  // toQwenMessages already maps it; kept here so the shaper is complete on its own.
  return isObject(message) && message.role === 'developer' ? { ...message, role: 'system' } : message;
}

function applyReasoningEffort(out: Json): void {
  const { reasoning_effort, reasoning } = out;
  delete out.reasoning_effort;
  delete out.reasoning;
  const effort =
    typeof reasoning_effort === 'string'
      ? reasoning_effort
      : isObject(reasoning) && typeof reasoning.effort === 'string'
        ? reasoning.effort
        : undefined;
  const key = effort?.toLowerCase();
  const mapped = key !== undefined && Object.hasOwn(EFFORT, key) ? EFFORT[key] : undefined;
  if (!mapped) return;
  // Qwen's own fields, when the client sent them, are the more precise instruction.
  if (out.enable_thinking === undefined) out.enable_thinking = mapped.enable_thinking;
  if (out.enable_thinking === true && mapped.thinking_budget !== undefined && out.thinking_budget === undefined) {
    out.thinking_budget = mapped.thinking_budget;
  }
}

/** Tools with cleaned schemas and no `strict` (the portal has no strict mode, protocol §6). */
function shapeTools(out: Json): unknown[] | undefined {
  if (!Array.isArray(out.tools)) return undefined;
  if (out.tools.length === 0) {
    // Qwen Code sends `tools` only when non-empty; a tool_choice without tools is refused by OpenAI
    // itself and means nothing.
    delete out.tools;
    delete out.tool_choice;
    delete out.parallel_tool_calls;
    return undefined;
  }
  return out.tools.map((tool) => {
    if (!isObject(tool) || !isObject(tool.function)) return tool;
    const { strict: _strict, ...fn } = tool.function;
    if (fn.parameters !== undefined) fn.parameters = cleanToolSchema(fn.parameters);
    return { ...tool, function: fn };
  });
}

function hasImages(messages: unknown[]): boolean {
  return messages.some(
    (message) =>
      isObject(message) &&
      Array.isArray(message.content) &&
      message.content.some((part) => isObject(part) && part.type === 'image_url'),
  );
}

function hasCacheControl(messages: unknown[], tools: unknown[] | undefined): boolean {
  const inMessages = messages.some(
    (message) =>
      isObject(message) && Array.isArray(message.content) && message.content.some((part) => isObject(part) && part.cache_control !== undefined),
  );
  return inMessages || (tools ?? []).some((tool) => isObject(tool) && tool.cache_control !== undefined);
}

/**
 * Qwen Code's DashScope cache rules (protocol §4, `addDashScopeCacheControl`): the first system
 * message always; when streaming also the last message and the last tool. A marked message's
 * content becomes an array whose last part carries `cache_control: {type:'ephemeral'}`.
 */
function addCacheControl(
  messages: unknown[],
  tools: unknown[] | undefined,
  stream: boolean,
): { messages: unknown[]; tools: unknown[] | undefined } {
  const systemIndex = messages.findIndex((message) => isObject(message) && message.role === 'system');
  const lastIndex = messages.length - 1;
  const marked = messages.map((message, index) =>
    (index === systemIndex || (stream && index === lastIndex)) && isObject(message) ? withCacheControl(message) : message,
  );
  let markedTools = tools;
  if (stream && tools && tools.length > 0) {
    markedTools = [...tools];
    const last = markedTools[markedTools.length - 1];
    if (isObject(last)) markedTools[markedTools.length - 1] = { ...last, cache_control: EPHEMERAL };
  }
  return { messages: marked, tools: markedTools };
}

function withCacheControl(message: Json): Json {
  const { content } = message;
  if (typeof content === 'string') {
    // An empty text part would be a part with nothing to cache, and risks a refusal of its own.
    if (content === '') return message;
    return { ...message, content: [{ type: 'text', text: content, cache_control: EPHEMERAL }] };
  }
  if (Array.isArray(content) && content.length > 0) {
    const parts = [...content];
    const last = parts[parts.length - 1];
    if (isObject(last)) parts[parts.length - 1] = { ...last, cache_control: EPHEMERAL };
    return { ...message, content: parts };
  }
  return message;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
