import { CUSTOM_INPUT_PARAMETER, type ToolNames } from './to-chat-tools.ts';

type Json = Record<string, unknown>;

/** What every rendering of one response (whole, or event by event) shares. */
export interface ResponseContext {
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** The model that served it (after aliases). */
  model: string;
  /** The client's request, echoed in the response as OpenAI does. */
  request: Json;
  names: ToolNames;
  /** `include: ["reasoning.encrypted_content"]`: reasoning items carry the field (empty: nothing is encrypted). */
  includeEncrypted: boolean;
  store: boolean;
}

export function newResponseContext(request: Json, model: string, names: ToolNames, store: boolean, nowMs: number): ResponseContext {
  const include = Array.isArray(request.include) ? request.include : [];
  return {
    id: newId('resp'),
    createdAt: Math.floor(nowMs / 1000),
    model,
    request,
    names,
    includeEncrypted: include.includes('reasoning.encrypted_content'),
    store,
  };
}

/**
 * OpenAI-style ids: a prefix and 32 hex digits (`resp_…`, `msg_…`, `fc_…`, `rs_…`, `ctc_…`). An item
 * id is repeated in every delta event of its item, so it is kept no longer than it needs to be.
 */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;
}

/** The response object around its output: status and the request's settings, echoed. */
export function responseShell(ctx: ResponseContext, status: string, output: unknown[] = []): Json {
  const { request } = ctx;
  const reasoning = (request.reasoning ?? {}) as Json;
  const text = typeof request.text === 'object' && request.text !== null ? (request.text as Json) : {};
  return {
    id: ctx.id,
    object: 'response',
    created_at: ctx.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: ctx.model,
    output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null },
    store: ctx.store,
    temperature: request.temperature ?? 1,
    text: { ...text, format: text.format ?? { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: Array.isArray(request.tools) ? request.tools.map(echoedTool) : [],
    top_p: request.top_p ?? 1,
    truncation: 'disabled',
    ...(typeof request.user === 'string' ? { user: request.user } : {}),
    metadata: request.metadata ?? {},
  };
}

/**
 * A tool as a Response lists it, with the fields OpenAI's schema requires there even when the
 * request left them out: a function's `parameters` and `strict` (null), a namespace's `description`.
 */
function echoedTool(tool: unknown): unknown {
  if (typeof tool !== 'object' || tool === null) return tool;
  const record = tool as Json;
  if (record.type === 'function') return { ...record, parameters: record.parameters ?? null, strict: record.strict ?? null };
  if (record.type === 'namespace') return { ...record, description: record.description ?? '' };
  return tool;
}

/** The end of an answer: `completed`, or `incomplete` with OpenAI's reason when Qwen stopped early. */
export function finalStatus(finishReason: string | undefined | null): { status: string; incomplete_details: Json | null } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** `usage` when Qwen said it (the field is an object or absent, never null). */
export function usageField(usage: unknown): { usage?: Json } {
  const converted = responsesUsage(usage);
  return converted ? { usage: converted } : {};
}

/** Qwen's chat usage in the Responses shape (cached and reasoning tokens included, 0 when Qwen did not say). */
export function responsesUsage(usage: unknown): Json | null {
  if (typeof usage !== 'object' || usage === null) return null;
  const u = usage as Json;
  const prompt = (u.prompt_tokens_details ?? {}) as Json;
  const completion = (u.completion_tokens_details ?? {}) as Json;
  const input = count(u.prompt_tokens);
  const output = count(u.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count(prompt.cached_tokens), cache_write_tokens: count(prompt.cache_creation_input_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(completion.reasoning_tokens) },
    total_tokens: typeof u.total_tokens === 'number' ? u.total_tokens : input + output,
  };
}

/**
 * A whole chat completion (normalised) → the Response: a `reasoning` item when Qwen reasoned (its
 * text as the summary), a `message` with the answer text, then one item per tool call.
 */
export function completionToResponse(completion: Json, ctx: ResponseContext, nowMs: number): Json {
  const choice = (Array.isArray(completion.choices) ? completion.choices[0] : undefined) as Json | undefined;
  const message = (choice?.message ?? {}) as Json;
  const output: Json[] = [];
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    output.push(reasoningItem(newId('rs'), message.reasoning_content, ctx));
  }
  if (typeof message.content === 'string' && message.content !== '') output.push(messageItem(newId('msg'), message.content, 'completed'));
  for (const call of Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : []) {
    const fn = (call.function ?? {}) as Json;
    output.push(callItem(ctx.names, String(call.id ?? newId('call')), String(fn.name ?? ''), String(fn.arguments ?? ''), 'completed'));
  }
  const { status, incomplete_details } = finalStatus(choice?.finish_reason as string | undefined);
  return {
    ...responseShell(ctx, status, output),
    completed_at: Math.floor(nowMs / 1000),
    incomplete_details,
    ...usageField(completion.usage),
  };
}

export function messageItem(id: string, text: string, status: string): Json {
  return {
    type: 'message',
    id,
    status,
    role: 'assistant',
    content: text === '' && status === 'in_progress' ? [] : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

export function reasoningItem(id: string, text: string, ctx: ResponseContext): Json {
  return {
    type: 'reasoning',
    id,
    summary: text === '' ? [] : [{ type: 'summary_text', text }],
    ...(ctx.includeEncrypted ? { encrypted_content: '' } : {}),
  };
}

/**
 * A tool call as the client declared the tool: a `function_call` with its JSON arguments, or for a
 * freeform tool a `custom_tool_call` with the raw input; namespaced tools get their namespace back.
 */
export function callItem(names: ToolNames, callId: string, qwenName: string, args: string, status: string, id?: string): Json {
  const tool = names.get(qwenName);
  const namespace = tool?.namespace === undefined ? {} : { namespace: tool.namespace };
  const name = tool?.name ?? qwenName;
  if (tool?.custom) {
    return { type: 'custom_tool_call', id: id ?? newId('ctc'), call_id: callId, ...namespace, name, input: customInput(args), status };
  }
  return { type: 'function_call', id: id ?? newId('fc'), call_id: callId, ...namespace, name, arguments: args, status };
}

/**
 * The raw input of a freeform tool from the arguments Qwen gave its one string parameter. A model
 * that named the parameter otherwise still meant its one string; anything else is passed as it is.
 */
export function customInput(args: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return args;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return args;
  const record = parsed as Json;
  if (typeof record[CUSTOM_INPUT_PARAMETER] === 'string') return record[CUSTOM_INPUT_PARAMETER] as string;
  const values = Object.values(record);
  return values.length === 1 && typeof values[0] === 'string' ? values[0] : values.length === 0 ? '' : args;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
