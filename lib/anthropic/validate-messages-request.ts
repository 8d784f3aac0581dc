import { invalidRequest } from '../errors.ts';

type Json = Record<string, unknown>;

/** A Messages request after the checks the gateway relies on; every other field passes untouched. */
export interface MessagesRequest extends Json {
  model?: string;
  messages: Json[];
  stream?: boolean;
}

const ROLES = new Set(['user', 'assistant', 'system']);

/**
 * Refuses, with Anthropic's 400 naming the field, only what the translation cannot work with. It is
 * deliberately liberal: Claude Code adds request fields with most releases (context_management,
 * output_config, new block and tool kinds), and a strict validator breaks every user on the day of
 * the release. Unknown fields and block types pass; the translation drops what Qwen cannot use.
 */
export function validateMessagesRequest(body: unknown): MessagesRequest {
  if (!isObject(body)) throw invalidRequest('The request body must be a JSON object.');
  if (body.model !== undefined && (typeof body.model !== 'string' || body.model.trim() === '')) {
    throw invalidRequest('model: must be a non-empty string.', 'model');
  }
  if (body.max_tokens !== undefined && !(Number.isInteger(body.max_tokens) && (body.max_tokens as number) > 0)) {
    throw invalidRequest('max_tokens: must be a positive integer.', 'max_tokens');
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw invalidRequest('stream: must be a boolean.', 'stream');
  for (const field of ['temperature', 'top_p', 'top_k'] as const) {
    const value = body[field];
    if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw invalidRequest(`${field}: must be a number.`, field);
    }
  }
  if (body.stop_sequences !== undefined && !(Array.isArray(body.stop_sequences) && body.stop_sequences.every((s) => typeof s === 'string'))) {
    throw invalidRequest('stop_sequences: must be an array of strings.', 'stop_sequences');
  }
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) {
    throw invalidRequest('system: must be a string or an array of text blocks.', 'system');
  }
  if (!Array.isArray(body.messages)) throw invalidRequest('messages: Field required (an array of messages).', 'messages');
  if (body.messages.length === 0) throw invalidRequest('messages: at least one message is required.', 'messages');
  body.messages.forEach((message, index) => {
    const at = `messages.${index}`;
    if (!isObject(message)) throw invalidRequest(`${at}: each message must be an object.`, at);
    if (typeof message.role !== 'string' || !ROLES.has(message.role)) {
      throw invalidRequest(`${at}.role: must be "user" or "assistant".`, `${at}.role`);
    }
    const { content } = message;
    if (typeof content === 'string') return;
    if (!Array.isArray(content)) throw invalidRequest(`${at}.content: must be a string or an array of content blocks.`, `${at}.content`);
    content.forEach((block, blockIndex) => {
      if (!isObject(block) || typeof block.type !== 'string') {
        throw invalidRequest(`${at}.content.${blockIndex}: each content block must be an object with a string "type".`, `${at}.content.${blockIndex}`);
      }
    });
  });
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw invalidRequest('tools: must be an array.', 'tools');
    body.tools.forEach((tool, index) => {
      if (!isObject(tool) || typeof tool.name !== 'string') throw invalidRequest(`tools.${index}: a tool must be an object with a string "name".`, `tools.${index}`);
    });
  }
  return body as MessagesRequest;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
