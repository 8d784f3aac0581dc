import { invalidRequest } from '../errors.ts';
import { CUSTOM_INPUT_PARAMETER, flatToolName } from './to-chat-tools.ts';

type Json = Record<string, unknown>;

/**
 * Responses input items → the chat messages Qwen takes. Qwen's chat templates want one system
 * message, first (a system or developer message later in the history breaks them: Codex sends its
 * prompt as developer messages, and compaction puts more after user turns), so every instruction
 * and system/developer message is gathered, in order, into that first message. Then:
 * - user/assistant messages keep their text and images; a user turn of one text part is sent as a
 *   plain string (list-form content can silently disable reasoning on some Qwen snapshots);
 * - `function_call` / `custom_tool_call` items join the assistant turn before them as tool_calls
 *   (a custom call's raw input becomes the one-string-parameter arguments it was offered with);
 * - `function_call_output` / `custom_tool_call_output` become tool messages; images a tool
 *   returned (Codex's view_image) follow as a user message once the tool results are done, since a
 *   tool message carries text only;
 * - `reasoning` items are dropped: Qwen cannot read another model's (or its own encrypted)
 *   reasoning, and an unknown item type would be refused;
 * - items of hosted tools the gateway never offered (web_search_call, ...) are dropped likewise.
 */
export function toChatMessages(instructions: unknown, input: unknown): Json[] {
  const system: string[] = [];
  if (typeof instructions === 'string' && instructions !== '') system.push(instructions);
  else if (Array.isArray(instructions)) collect(instructions, 'instructions', system, []);
  const messages: Json[] = [];
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input });
  } else if (Array.isArray(input)) {
    collect(input, 'input', system, messages);
  } else if (input !== undefined && input !== null) {
    throw invalidRequest("Invalid type for 'input': must be a string or an array of input items.", 'input', 'invalid_type');
  }
  if (system.length > 0) messages.unshift({ role: 'system', content: system.join('\n\n') });
  return messages;
}

function collect(items: unknown[], field: string, system: string[], messages: Json[]): void {
  let pendingImages: Json[] = [];
  const flushImages = () => {
    if (pendingImages.length === 0) return;
    messages.push({ role: 'user', content: [{ type: 'text', text: 'Images returned by the tool calls above:' }, ...pendingImages] });
    pendingImages = [];
  };
  items.forEach((item, index) => {
    const at = `${field}[${index}]`;
    if (!isObject(item)) throw invalidRequest(`Invalid type for '${at}': each input item must be an object.`, at, 'invalid_type');
    const type = item.type ?? (typeof item.role === 'string' ? 'message' : undefined);
    if (type !== 'function_call_output' && type !== 'custom_tool_call_output') flushImages();
    switch (type) {
      case 'message':
        addMessage(item, at, system, messages);
        return;
      case 'function_call':
        addCall(messages, callId(item, at), flatToolName(item), typeof item.arguments === 'string' && item.arguments !== '' ? item.arguments : '{}');
        return;
      case 'custom_tool_call':
        addCall(messages, callId(item, at), flatToolName(item), JSON.stringify({ [CUSTOM_INPUT_PARAMETER]: typeof item.input === 'string' ? item.input : '' }));
        return;
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const { text, images } = outputContent(item.output, `${at}.output`);
        messages.push({ role: 'tool', tool_call_id: callId(item, at), content: text });
        pendingImages.push(...images);
        return;
      }
      case 'item_reference':
        throw invalidRequest(
          `'${at}' is an item_reference; this gateway does not resolve item ids. Send the item itself, or use previous_response_id.`,
          at,
          'unsupported_value',
        );
      default:
        // reasoning, and the items of hosted tools Qwen never had: nothing Qwen can read.
        return;
    }
  });
  flushImages();
}

function addMessage(item: Json, at: string, system: string[], messages: Json[]): void {
  const role = item.role;
  if (role === 'system' || role === 'developer') {
    const text = textOf(item.content, `${at}.content`);
    if (text !== '') system.push(text);
    return;
  }
  if (role === 'assistant') {
    messages.push({ role: 'assistant', content: textOf(item.content, `${at}.content`) });
    return;
  }
  if (role !== 'user') {
    throw invalidRequest(
      `Invalid value for '${at}.role': '${String(role)}'. Supported values are: 'user', 'assistant', 'system' and 'developer'.`,
      `${at}.role`,
      'invalid_value',
    );
  }
  const parts = userParts(item.content, `${at}.content`);
  const only = parts.length === 1 ? parts[0] : undefined;
  messages.push({ role: 'user', content: only?.type === 'text' ? only.text : parts });
}

/** A call joins the assistant turn right before it; after anything else it opens one of its own. */
function addCall(messages: Json[], id: string, name: string, args: string): void {
  const call = { id, type: 'function', function: { name, arguments: args } };
  const last = messages.at(-1);
  if (last?.role === 'assistant') {
    last.tool_calls = [...(Array.isArray(last.tool_calls) ? last.tool_calls : []), call];
    if (last.content === '') last.content = null;
    return;
  }
  messages.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function callId(item: Json, at: string): string {
  if (typeof item.call_id === 'string' && item.call_id !== '') return item.call_id;
  throw invalidRequest(`Missing required parameter: '${at}.call_id'.`, `${at}.call_id`, 'missing_required_parameter');
}

const TEXT_PARTS = new Set(['input_text', 'output_text', 'text', 'summary_text', 'reasoning_text']);

/** The text of a message's content (a string, or its text parts joined); images have no place here. */
function textOf(content: unknown, at: string): string {
  if (typeof content === 'string') return content;
  if (content === undefined || content === null) return '';
  if (!Array.isArray(content)) throw invalidRequest(`Invalid type for '${at}': must be a string or an array of content parts.`, at, 'invalid_type');
  return content
    .map((part, index) => {
      const kind = partType(part, `${at}[${index}]`);
      if (TEXT_PARTS.has(kind)) return typeof (part as Json).text === 'string' ? ((part as Json).text as string) : '';
      if (kind === 'refusal') return typeof (part as Json).refusal === 'string' ? ((part as Json).refusal as string) : '';
      return '';
    })
    .join('');
}

function userParts(content: unknown, at: string): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalidRequest(`Invalid type for '${at}': must be a string or an array of content parts.`, at, 'invalid_type');
  const parts: Json[] = [];
  content.forEach((part, index) => {
    const converted = contentPart(part as Json, `${at}[${index}]`);
    if (converted) parts.push(converted);
  });
  return parts;
}

/** One input content part in the chat shape; undefined for nothing to send. */
function contentPart(part: Json, at: string): Json | undefined {
  const kind = partType(part, at);
  if (TEXT_PARTS.has(kind)) return { type: 'text', text: typeof part.text === 'string' ? part.text : '' };
  if (kind === 'input_image') {
    const url = typeof part.image_url === 'string' ? part.image_url : undefined;
    if (!url) {
      throw invalidRequest(`'${at}' has no image_url; this gateway has no file storage, so images must come as a URL or a data URL.`, at, 'unsupported_value');
    }
    const detail = part.detail === 'low' || part.detail === 'high' ? { detail: part.detail } : {};
    return { type: 'image_url', image_url: { url, ...detail } };
  }
  if (kind === 'input_file' || kind === 'input_audio') {
    throw invalidRequest(`'${at}' is an ${kind} part, which Qwen cannot read here; send its text instead.`, at, 'unsupported_value');
  }
  return undefined;
}

/** A tool's output: a string, or content parts whose text is joined and whose images are kept aside. */
function outputContent(output: unknown, at: string): { text: string; images: Json[] } {
  if (typeof output === 'string') return { text: output, images: [] };
  if (!Array.isArray(output)) return { text: output === undefined || output === null ? '' : JSON.stringify(output), images: [] };
  const texts: string[] = [];
  const images: Json[] = [];
  output.forEach((part, index) => {
    const converted = contentPart(part as Json, `${at}[${index}]`);
    if (converted?.type === 'text') texts.push(converted.text as string);
    else if (converted) images.push(converted);
  });
  return { text: texts.join('\n'), images };
}

function partType(part: unknown, at: string): string {
  if (isObject(part) && typeof part.type === 'string') return part.type;
  throw invalidRequest(`Invalid '${at}': each content part must be an object with a string 'type'.`, at, 'invalid_type');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
