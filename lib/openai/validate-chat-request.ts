import { invalidRequest } from '../errors.ts';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';

/** The request after validation: the client's object, known to have the shape we rely on. */
export type ChatRequest = ChatCompletionCreateParams & Record<string, unknown>;

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

type Check = (value: unknown) => string | undefined;

const isNumber: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : 'must be a number');
const range = (min: number, max: number): Check => (v) =>
  isNumber(v) ?? ((v as number) < min || (v as number) > max ? `must be between ${min} and ${max}` : undefined);
const positiveInt: Check = (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be a positive integer');
const integer: Check = (v) => (Number.isInteger(v) ? undefined : 'must be an integer');
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean');
const str: Check = (v) => (typeof v === 'string' ? undefined : 'must be a string');
const obj: Check = (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'must be an object');
const arr: Check = (v) => (Array.isArray(v) ? undefined : 'must be an array');
const strOrArr: Check = (v) =>
  typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'))
    ? undefined
    : 'must be a string or an array of strings';
const strOrObj: Check = (v) => (typeof v === 'string' ? undefined : obj(v) && 'must be a string or an object');

/** Fields the gateway knows; each may also be null (clients send explicit nulls for "unset"). */
const FIELDS: Record<string, Check> = {
  model: str,
  stream: bool,
  temperature: range(0, 2),
  top_p: range(0, 1),
  n: positiveInt,
  max_tokens: positiveInt,
  max_completion_tokens: positiveInt,
  presence_penalty: range(-2, 2),
  frequency_penalty: range(-2, 2),
  seed: integer,
  stop: strOrArr,
  user: str,
  tools: arr,
  tool_choice: strOrObj,
  parallel_tool_calls: bool,
  response_format: obj,
  stream_options: obj,
  logit_bias: obj,
  logprobs: bool,
  top_logprobs: integer,
  metadata: obj,
};

/**
 * Refuses, with a 400 that names the field, what would otherwise reach Qwen and come back as its
 * opaque "bad request" (or worse, a 5xx). Unknown fields pass through untouched.
 */
export function validateChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  const request = body as Record<string, unknown>;
  for (const [field, check] of Object.entries(FIELDS)) {
    const value = request[field];
    if (value === undefined || value === null) continue;
    const problem = check(value);
    if (problem) throw invalidRequest(`Invalid type for '${field}': ${problem}.`, field, 'invalid_type');
  }
  if (typeof request.model === 'string' && request.model.trim() === '') {
    throw invalidRequest("'model' must not be an empty string.", 'model');
  }
  const messages = request.messages;
  if (messages === undefined || messages === null) throw invalidRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(messages)) throw invalidRequest("Invalid type for 'messages': must be an array.", 'messages', 'invalid_type');
  if (messages.length === 0) throw invalidRequest("'messages' must contain at least one message.", 'messages', 'empty_array');
  messages.forEach(validateMessage);
  if (Array.isArray(request.tools)) request.tools.forEach(validateTool);
  return request as ChatRequest;
}

function validateMessage(message: unknown, index: number): void {
  const at = `messages[${index}]`;
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw invalidRequest(`Invalid type for '${at}': each message must be an object.`, at, 'invalid_type');
  }
  const { role, content } = message as Record<string, unknown>;
  if (typeof role !== 'string') throw invalidRequest(`Missing or invalid '${at}.role': must be a string.`, `${at}.role`, 'invalid_type');
  if (!ROLES.has(role)) {
    throw invalidRequest(
      `Invalid value for '${at}.role': '${role}'. Supported values are: ${[...ROLES].map((r) => `'${r}'`).join(', ')}.`,
      `${at}.role`,
      'invalid_value',
    );
  }
  if (content === undefined || content === null) {
    // Assistant turns that only call tools carry no content; every other role needs some.
    if (role === 'assistant') return;
    throw invalidRequest(`Missing required parameter: '${at}.content'.`, `${at}.content`, 'missing_required_parameter');
  }
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) {
    throw invalidRequest(`Invalid type for '${at}.content': must be a string or an array of content parts.`, `${at}.content`, 'invalid_type');
  }
  content.forEach((part, partIndex) => {
    if (typeof part !== 'object' || part === null || typeof (part as { type?: unknown }).type !== 'string') {
      throw invalidRequest(
        `Invalid '${at}.content[${partIndex}]': each content part must be an object with a string 'type'.`,
        `${at}.content[${partIndex}]`,
        'invalid_type',
      );
    }
  });
}

function validateTool(tool: unknown, index: number): void {
  const at = `tools[${index}]`;
  const fn = (tool as { function?: { name?: unknown } } | null)?.function;
  if (typeof tool !== 'object' || tool === null || typeof fn !== 'object' || fn === null || typeof fn.name !== 'string') {
    throw invalidRequest(`Invalid '${at}': a tool must be {"type":"function","function":{"name":...}}.`, at, 'invalid_type');
  }
}
