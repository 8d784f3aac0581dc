import type { ChatRequest } from '../openai/validate-chat-request.ts';
import type { MessagesRequest } from './validate-messages-request.ts';

type Json = Record<string, unknown>;

/** DashScope honours at most four explicit cache markers in a request (clients-and-qwen §1.6-5). */
const MAX_CACHE_MARKERS = 4;

/**
 * An Anthropic Messages request as the Chat Completions body Qwen takes.
 * - `system` (string or blocks) and `role: "system"` messages inside `messages` (Claude Code sends
 *   them since mid-2026) become one leading system message.
 * - Blocks: text and images (base64 and URL) map one to one; `tool_use` becomes the assistant's
 *   tool calls and `tool_result` a `tool` message (placed right after them, as Qwen requires);
 *   `thinking` / `redacted_thinking` from earlier turns are dropped (their signatures are ours and
 *   mean nothing to Qwen); other block kinds keep their text, if they have any.
 * - `cache_control` markers keep only `{type:"ephemeral"}` (DashScope's explicit cache reads that;
 *   unknown keys such as `scope` would be refused), at most four.
 * - Tools with an `input_schema` become functions (the shaper cleans their schemas); Anthropic's
 *   hosted server tools (web search, code execution, ...) are dropped: Qwen cannot run them.
 * - `tool_choice` any/tool become required/named (the shaper downgrades a forced choice to auto
 *   when thinking is on, which Qwen refuses); `thinking` and `output_config.effort` become Qwen's
 *   thinking switches; stop_sequences, temperature, top_p, top_k, metadata.user_id carry over;
 *   context_management and other Claude-only fields are dropped.
 * A single plain text block is sent as a string: list-form user content can turn reasoning off on
 * some Qwen snapshots (clients-and-qwen §1.6-3).
 */
export function messagesToChat(request: MessagesRequest): ChatRequest {
  // The system prompt is the most stable prefix, so it gets the cache markers first.
  const markers = { left: MAX_CACHE_MARKERS };
  const system = [request.system, ...request.messages.filter((m) => m.role === 'system').map((m) => m.content)].flatMap(systemBlocks);
  const systemParts = system.map((block) => textPart(block, markers)).filter((part): part is Json => part !== undefined);
  const messages: Json[] = systemParts.length > 0 ? [{ role: 'system', content: compact(systemParts, '\n\n') }] : [];
  for (const message of request.messages) {
    if (message.role === 'assistant') messages.push(...assistantMessage(message.content, markers));
    else if (message.role === 'user') messages.push(...userMessages(message.content, markers));
  }

  const body: Json = { messages };
  if (request.max_tokens !== undefined) body.max_tokens = request.max_tokens;
  if (request.stream === true) body.stream = true;
  for (const field of ['temperature', 'top_p', 'top_k'] as const) {
    if (typeof request[field] === 'number') body[field] = request[field];
  }
  if (Array.isArray(request.stop_sequences) && request.stop_sequences.length > 0) body.stop = request.stop_sequences;
  const user = isObject(request.metadata) ? request.metadata.user_id : undefined;
  if (typeof user === 'string' && user !== '') body.user = user;
  Object.assign(body, thinkingSwitches(request));
  const tools = Array.isArray(request.tools) ? request.tools.filter(isClientTool).map(toFunctionTool) : [];
  if (tools.length > 0) {
    body.tools = tools;
    const choice = toolChoice(request.tool_choice);
    if (choice.tool_choice !== undefined) body.tool_choice = choice.tool_choice;
    if (choice.parallel_tool_calls !== undefined) body.parallel_tool_calls = choice.parallel_tool_calls;
  }
  return body as unknown as ChatRequest;
}

function systemBlocks(content: unknown): Json[] {
  if (typeof content === 'string') return content === '' || isBillingHeader(content) ? [] : [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter((block) => isObject(block) && !isBillingHeader(block.text)) : [];
}

/**
 * Claude Code opens its system prompt with Anthropic's billing metadata as a text block
 * ("x-anthropic-billing-header: cc_version=2.1.332.1c9; ..."), whose suffix changes between
 * sessions. It tells Qwen nothing, and as the very first line it would keep Qwen's prompt cache
 * from ever matching across sessions.
 */
function isBillingHeader(text: unknown): boolean {
  return typeof text === 'string' && text.startsWith('x-anthropic-billing-header:');
}

/** A text block as a chat text part, with its cache marker reduced to what DashScope reads. */
function textPart(block: Json, markers: { left: number }): Json | undefined {
  const text = typeof block.text === 'string' ? block.text : undefined;
  if (text === undefined || text === '') return undefined;
  const part: Json = { type: 'text', text };
  if (isObject(block.cache_control) && markers.left > 0) {
    markers.left--;
    part.cache_control = { type: 'ephemeral' };
  }
  return part;
}

/** Parts as a chat `content`: one plain text part is a string, anything else stays a list. */
function compact(parts: Json[], separator: string): string | Json[] {
  if (parts.every((part) => part.type === 'text' && part.cache_control === undefined)) return parts.map((part) => part.text).join(separator);
  return parts;
}

function userMessages(content: unknown, markers: { left: number }): Json[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const out: Json[] = [];
  const parts: Json[] = [];
  for (const block of content as Json[]) {
    if (block.type === 'tool_result') {
      const { text, images } = toolResultContent(block.content);
      const body = block.is_error === true ? `Error: ${text}` : text;
      out.push({ role: 'tool', tool_call_id: String(block.tool_use_id ?? ''), content: body });
      // Qwen's tool messages carry text only: a tool's screenshots follow as the user's images.
      parts.push(...images);
      continue;
    }
    const part = userPart(block, markers);
    if (part) parts.push(part);
  }
  if (parts.length > 0) out.push({ role: 'user', content: compact(parts, '\n') });
  return out;
}

function userPart(block: Json, markers: { left: number }): Json | undefined {
  if (block.type === 'image') return imagePart(block);
  if (block.type === 'document' && isObject(block.source) && block.source.type === 'text' && typeof block.source.data === 'string') {
    return textPart({ text: block.source.data, cache_control: block.cache_control }, markers);
  }
  return textPart(block, markers);
}

function imagePart(block: Json): Json | undefined {
  const source = isObject(block.source) ? block.source : {};
  if (source.type === 'base64' && typeof source.data === 'string') {
    const mediaType = typeof source.media_type === 'string' ? source.media_type : 'image/png';
    return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${source.data}` } };
  }
  if (source.type === 'url' && typeof source.url === 'string') return { type: 'image_url', image_url: { url: source.url } };
  return undefined;
}

function toolResultContent(content: unknown): { text: string; images: Json[] } {
  if (typeof content === 'string') return { text: content, images: [] };
  if (!Array.isArray(content)) return { text: '', images: [] };
  const texts: string[] = [];
  const images: Json[] = [];
  for (const block of content) {
    if (!isObject(block)) continue;
    if (block.type === 'image') {
      const image = imagePart(block);
      if (image) images.push(image);
    } else if (typeof block.text === 'string') {
      texts.push(block.text);
    }
  }
  return { text: texts.join('\n'), images };
}

function assistantMessage(content: unknown, markers: { left: number }): Json[] {
  if (typeof content === 'string') return [{ role: 'assistant', content }];
  const parts: Json[] = [];
  const toolCalls: Json[] = [];
  for (const block of content as Json[]) {
    if (block.type === 'tool_use') {
      toolCalls.push({
        id: String(block.id ?? ''),
        type: 'function',
        function: { name: String(block.name ?? ''), arguments: JSON.stringify(block.input ?? {}) },
      });
      continue;
    }
    if (block.type === 'text') {
      const part = textPart(block, markers);
      if (part) parts.push(part);
    }
    // thinking, redacted_thinking and server tool blocks: nothing Qwen can use.
  }
  if (parts.length === 0 && toolCalls.length === 0) return [];
  const message: Json = { role: 'assistant', content: parts.length > 0 ? compact(parts, '') : null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return [message];
}

/** A tool the client runs itself: a plain tool, or `type: "custom"`. Typed server tools are Anthropic's to run. */
function isClientTool(tool: unknown): tool is Json {
  return isObject(tool) && typeof tool.name === 'string' && (tool.type === undefined || tool.type === null || tool.type === 'custom');
}

function toFunctionTool(tool: Json): Json {
  const fn: Json = { name: tool.name, parameters: isObject(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} } };
  if (typeof tool.description === 'string') fn.description = tool.description;
  return { type: 'function', function: fn };
}

function toolChoice(choice: unknown): { tool_choice?: unknown; parallel_tool_calls?: boolean } {
  if (!isObject(choice)) return {};
  const out: { tool_choice?: unknown; parallel_tool_calls?: boolean } = {};
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  if (choice.type === 'auto') out.tool_choice = 'auto';
  else if (choice.type === 'any') out.tool_choice = 'required';
  else if (choice.type === 'none') out.tool_choice = 'none';
  else if (choice.type === 'tool' && typeof choice.name === 'string') out.tool_choice = { type: 'function', function: { name: choice.name } };
  return out;
}

/**
 * `thinking` says whether to think (enabled with a budget, adaptive, or disabled); Claude Code's
 * effort slider (`output_config.effort`, low..max) says how hard. Both become the effort and switches
 * the shaper already maps for every surface (enable_thinking, thinking_budget).
 */
function thinkingSwitches(request: MessagesRequest): Json {
  const thinking = isObject(request.thinking) ? request.thinking : undefined;
  const effort = isObject(request.output_config) && typeof request.output_config.effort === 'string' ? request.output_config.effort : undefined;
  if (thinking?.type === 'disabled') return { enable_thinking: false };
  const out: Json = {};
  if (thinking?.type === 'enabled' || thinking?.type === 'adaptive' || thinking?.type === 'auto') {
    out.enable_thinking = true;
    if (thinking.type === 'enabled' && Number.isInteger(thinking.budget_tokens)) out.thinking_budget = thinking.budget_tokens;
  }
  if (effort) out.reasoning_effort = effort === 'max' ? 'xhigh' : effort;
  return out;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
