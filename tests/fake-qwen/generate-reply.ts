/**
 * Deterministic assistant answers. The last user message is echoed; markers in it select scripted
 * answers (the list is documented at the top of index.ts). Only ids are random.
 */
import { randomBytes } from 'node:crypto';

export interface ToolCallReply {
  id: string;
  /** The `index` the stream uses (toolIndexCollision makes every call 0). */
  streamIndex: number;
  name: string;
  arguments: string;
  /** `arguments` cut into the fragments a stream sends after the opening delta. */
  fragments: string[];
}

export interface Reply {
  /** Empty when the model does not reason. */
  reasoningChunks: string[];
  contentChunks: string[];
  toolCalls: ToolCallReply[];
  finishReason: 'stop' | 'tool_calls' | 'length';
  promptTokens: number;
  completionTokens: number;
}

export interface ReplyOptions {
  thinkByDefault: boolean;
  thinkTagLeak: boolean;
  toolIndexCollision: boolean;
}

const MARKER = /\[\[([a-z]+)(?::(\d+))?\]\]/gi;
const FILLER = 'The quick brown fox jumps over the lazy dog. ';

/** Token counts are approximations, like the spec says: ceil(characters / 4). */
export function countTokens(text: string): number {
  return Math.ceil([...text].length / 4);
}

/** Text of an OpenAI message content: a string, or the text parts of an array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
      .join('');
  }
  return '';
}

/** Words with their trailing whitespace, so the chunks join back to exactly `text`. */
export function words(text: string): string[] {
  return text.match(/[^\s]+\s*|\s+/g) ?? [];
}

/** Cut by code points (never inside a surrogate pair) into pieces of `size`. */
export function pieces(text: string, size: number): string[] {
  const points = [...text];
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}

/** `count` nearly equal pieces of `text`. */
function evenPieces(text: string, count: number): string[] {
  const points = [...text];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(points.slice(Math.floor((i * points.length) / count), Math.floor(((i + 1) * points.length) / count)).join(''));
  }
  return out;
}

function parseMarkers(text: string): { markers: Map<string, number | null>; stripped: string } {
  const markers = new Map<string, number | null>();
  for (const match of text.matchAll(MARKER)) {
    markers.set((match[1] ?? '').toLowerCase(), match[2] === undefined ? null : Number(match[2]));
  }
  return { markers, stripped: text.replace(MARKER, '').replace(/\s+/g, ' ').trim() };
}

interface ChatBody {
  messages?: unknown;
  tools?: unknown;
  max_tokens?: unknown;
  enable_thinking?: unknown;
}

export function generateReply(body: ChatBody, options: ReplyOptions): Reply {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
  const promptText = messages
    .map((m) => contentText(m.content) + (Array.isArray(m.tool_calls) ? JSON.stringify(m.tool_calls) : ''))
    .join('');
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const { markers, stripped } = parseMarkers(contentText(lastUser?.content));

  const thinking = markers.has('think') || body.enable_thinking === true || (options.thinkByDefault && body.enable_thinking !== false);
  let reasoningChunks = thinking || options.thinkTagLeak ? words(`Thinking about: ${stripped}`) : [];

  let contentChunks: string[];
  const chars = markers.get('chars');
  const long = markers.get('long');
  if (chars != null) {
    const text = FILLER.repeat(Math.ceil(chars / FILLER.length)).slice(0, chars);
    contentChunks = long != null ? evenPieces(text, long) : words(text);
  } else if (long != null) {
    contentChunks = Array.from({ length: long }, (_, i) => `Line ${i + 1} of ${long}.\n`);
  } else {
    contentChunks = words(`Echo: ${stripped}`);
  }

  const toolCalls: ToolCallReply[] = [];
  if (markers.has('tools')) {
    const tools = Array.isArray(body.tools) ? (body.tools as Array<{ function?: { name?: unknown } }>) : [];
    let count = Math.max(1, markers.get('tools') ?? 1);
    if (options.toolIndexCollision) count = Math.max(2, count);
    for (let i = 0; i < count; i++) {
      const declared = tools.length > 0 ? tools[i % tools.length]?.function?.name : undefined;
      const args = JSON.stringify(count === 1 ? { query: stripped } : { query: stripped, call: i + 1 });
      toolCalls.push({
        id: `call_${randomBytes(12).toString('hex')}`,
        streamIndex: options.toolIndexCollision ? 0 : i,
        name: typeof declared === 'string' ? declared : 'get_weather',
        arguments: args,
        fragments: pieces(args, 7),
      });
    }
    contentChunks = [];
  }

  if (options.thinkTagLeak) {
    // The leak: reasoning arrives as `<think>…</think>` at the start of `content`.
    contentChunks = ['<think>', ...reasoningChunks, '</think>\n\n', ...contentChunks];
    reasoningChunks = [];
  }

  let finishReason: Reply['finishReason'] = toolCalls.length > 0 ? 'tool_calls' : markers.has('length') ? 'length' : 'stop';
  const maxTokens = typeof body.max_tokens === 'number' && body.max_tokens > 0 ? body.max_tokens : null;
  if (finishReason === 'stop' && maxTokens !== null && countTokens(contentChunks.join('')) > maxTokens) {
    // Cut the answer where max_tokens runs out, as a real model would stop.
    let budget = maxTokens * 4;
    const kept: string[] = [];
    for (const chunk of contentChunks) {
      if (budget <= 0) break;
      const points = [...chunk];
      kept.push(points.slice(0, budget).join(''));
      budget -= points.length;
    }
    contentChunks = kept;
    finishReason = 'length';
  }

  const completionText =
    reasoningChunks.join('') + contentChunks.join('') + toolCalls.map((t) => t.name + t.arguments).join('');
  return {
    reasoningChunks,
    contentChunks,
    toolCalls,
    finishReason,
    promptTokens: countTokens(promptText),
    completionTokens: countTokens(completionText),
  };
}
