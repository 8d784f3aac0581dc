import { invalidRequest } from '../errors.ts';
import type { ChatRequest } from '../openai/validate-chat-request.ts';
import { toChatMessages } from './to-chat-messages.ts';
import { toChatToolChoice, toChatTools, type ToolNames } from './to-chat-tools.ts';

type Json = Record<string, unknown>;

export interface ChatTranslation {
  /** The chat body for Qwen (without `model`, which the handler resolves). */
  chat: ChatRequest;
  /** Qwen's function names → the client's tools, to word its calls back. */
  names: ToolNames;
}

type Check = (value: unknown) => string | undefined;
const str: Check = (v) => (typeof v === 'string' ? undefined : 'must be a string');
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean');
const obj: Check = (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'must be an object');
const positiveInt: Check = (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be a positive integer');
const range = (min: number, max: number): Check => (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? undefined : `must be a number between ${min} and ${max}`;

/**
 * The fields whose type the gateway relies on; each may also be null. Everything else is accepted
 * and ignored unless used below: Codex alone sends `include`, `prompt_cache_key`,
 * `client_metadata`, `service_tier` and `text.verbosity`, and a strict validator would break it.
 */
const FIELDS: Record<string, Check> = {
  model: str,
  stream: bool,
  store: bool,
  previous_response_id: str,
  temperature: range(0, 2),
  top_p: range(0, 1),
  max_output_tokens: positiveInt,
  parallel_tool_calls: bool,
  reasoning: obj,
  text: obj,
  prompt_cache_key: str,
  metadata: obj,
};

/** Refuses, with a 400 that names the field, the Responses fields this gateway cannot honour. */
export function validateResponsesRequest(body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('The request body must be a JSON object.');
  const request = body as Json;
  for (const [field, check] of Object.entries(FIELDS)) {
    const value = request[field];
    if (value === undefined || value === null) continue;
    const problem = check(value);
    if (problem) throw invalidRequest(`Invalid type for '${field}': ${problem}.`, field, 'invalid_type');
  }
  if (typeof request.model === 'string' && request.model.trim() === '') throw invalidRequest("'model' must not be an empty string.", 'model');
  if (request.background === true) {
    throw invalidRequest('Background responses are not supported by this gateway; send the request without `background`, or stream it.', 'background', 'unsupported_value');
  }
  for (const field of ['conversation', 'prompt']) {
    if (request[field] !== undefined && request[field] !== null) {
      throw invalidRequest(`'${field}' is not supported by this gateway; send the input items themselves (or use previous_response_id).`, field, 'unsupported_parameter');
    }
  }
  return request;
}

/**
 * A (validated) Responses request → the Chat Completions body Qwen takes. `history` is the stored
 * conversation that `previous_response_id` names (its input and output items), put before this
 * request's input as OpenAI does; that response's `instructions` are not carried over.
 */
export function toChatRequest(request: Json, history: unknown[] = []): ChatTranslation {
  const input = history.length === 0 ? request.input : [...history, ...inputItems(request.input)];
  const messages = toChatMessages(request.instructions, input);
  if (!messages.some((message) => message.role !== 'system')) {
    throw invalidRequest("Missing required parameter: 'input' (a string or at least one input item).", 'input', 'missing_required_parameter');
  }
  const { tools, names } = toChatTools(request.tools);
  const chat: Json = { messages, stream: request.stream === true };
  if (tools.length > 0) {
    chat.tools = tools;
    const choice = toChatToolChoice(request.tool_choice, names);
    if (choice !== undefined) chat.tool_choice = choice;
    if (typeof request.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = request.parallel_tool_calls;
  }
  for (const field of ['temperature', 'top_p'] as const) if (typeof request[field] === 'number') chat[field] = request[field];
  if (typeof request.max_output_tokens === 'number') chat.max_tokens = request.max_output_tokens;
  // Qwen's thinking switches come from the effort (shapeQwenBody maps `reasoning.effort`). A summary
  // setting alone only asks to see the reasoning, which comes back whenever Qwen reasons; it turns
  // nothing on (Codex asks for summaries on every request).
  const effort = (request.reasoning as Json | null | undefined)?.effort;
  if (typeof effort === 'string') chat.reasoning = { effort };
  const format = responseFormat((request.text as Json | null | undefined)?.format);
  if (format) chat.response_format = format;
  return { chat: chat as ChatRequest, names };
}

/** This request's input as items, whichever form it came in. */
export function inputItems(input: unknown): unknown[] {
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  return Array.isArray(input) ? input : [];
}

/** `text.format` → `response_format`: JSON mode and structured outputs; plain text needs nothing. */
function responseFormat(format: unknown): Json | undefined {
  if (typeof format !== 'object' || format === null) return undefined;
  const { type, name, schema, strict, description } = format as Json;
  if (type === 'json_object') return { type: 'json_object' };
  if (type !== 'json_schema') return undefined;
  if (typeof schema !== 'object' || schema === null) {
    throw invalidRequest("Missing required parameter: 'text.format.schema'.", 'text.format.schema', 'missing_required_parameter');
  }
  const jsonSchema: Json = { name: typeof name === 'string' && name !== '' ? name : 'response', schema };
  if (typeof strict === 'boolean') jsonSchema.strict = strict;
  if (typeof description === 'string') jsonSchema.description = description;
  return { type: 'json_schema', json_schema: jsonSchema };
}
