/**
 * Per-stream normalisation of Qwen's chat.completion.chunk objects into what a strict OpenAI
 * client assembles correctly (protocol §6 quirks). Stateful: one normalizer per stream.
 *
 * - Tool calls: Qwen reuses `index` for different calls and omits `id`/`name` on continuation
 *   chunks (the reason Qwen Code has a StreamingToolCallParser). Every call gets its own output
 *   index, numbered 0, 1, 2… in the order calls open; a call's first delta carries index, id,
 *   type and name (as OpenAI sends it, and as clients such as the Vercel AI SDK require), its
 *   continuations only index and function.arguments. A call whose name has not arrived yet is held
 *   back until it does. Empty-argument continuation chunks are dropped (they add nothing); a call
 *   that ends with no arguments at all gets "{}" so its arguments always parse.
 * - Text: some Qwen paths send the accumulated text instead of a delta (QwenLM/qwen-code PR
 *   #3896). A chunk that starts with everything accumulated so far for its choice and field and is
 *   longer is such a snapshot: only its new suffix is sent. Anything else is a real delta and passes
 *   unchanged, so repeated text ("ha", "ha") is never dropped.
 * - `<think>…</think>` that leaks into `content` at the start of an answer (Qwen Code's
 *   `contentOnlyThinkingTagLeaks`) moves to `reasoning_content`, wherever the chunk boundaries fall.
 * - `reasoning_content` passes as Qwen sent it; `reasoning_content: ""` / `null`, sent on every chunk
 *   by some paths, is removed (absent); `reasoning`, which some paths use instead (Qwen Code
 *   reads both), is delivered as `reasoning_content`.
 * - `system_fingerprint: null` is removed (OpenAI's schema allows only a string); `logprobs` and
 *   `usage` are kept as they are (the relay decides about usage-only chunks).
 * - `finish_reason: "stop"` after tool calls becomes "tool_calls".
 * A `finish_reason: "error_finish"` choice is passed through untouched: it is the relay's to turn
 * into an error.
 */

type Json = Record<string, unknown>;

export interface StreamNormalizerOptions {
  /** Makes ids for tool calls Qwen streamed without one (tests make them deterministic). */
  newToolCallId?: () => string;
  /**
   * Keep what was sent, for finalContent(). Off in the gateway: a stream must not hold its whole
   * answer in memory (a Worker isolate has 128 MB, shared by every stream it serves).
   */
  record?: boolean;
}

export interface AssembledToolCall {
  index: number;
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One choice as the client has received it so far. */
export interface AssembledChoice {
  index: number;
  content: string;
  reasoning_content: string;
  tool_calls: AssembledToolCall[];
  finish_reason: string | null;
}

export interface StreamNormalizer {
  /** The chunk to send (a new object), or null when it carries nothing for the client. */
  chunk(chunk: Json): Json | null;
  /** What the client has been sent, assembled per choice (needs `record: true`). */
  finalContent(): AssembledChoice[];
  /**
   * True once a plain delta of `field` needs nothing from this normalizer: one choice, no tool
   * calls, the field's text known to come as deltas, and for content, past any leaked <think>
   * block. The relay may then pass such chunks on without parsing them.
   */
  canPassThrough(field: 'content' | 'reasoning_content'): boolean;
}

interface TextChannel {
  /**
   * Everything this field has carried so far, as Qwen meant it (after snapshot → suffix), kept
   * only while it is needed to recognise snapshots: always in a snapshot stream (where each chunk
   * is that long anyway), and in a delta stream only up to SNAPSHOT_WATCH_CHARS.
   */
  acc: string;
  /** The stream has proven to send snapshots for this field. */
  cumulative: boolean;
  /** A delta stream past SNAPSHOT_WATCH_CHARS: no longer watched for snapshots; acc is dropped. */
  settled: boolean;
}

interface ThinkState {
  /** start: nothing visible sent yet; inside: in a leaked think block; after: plain content. */
  phase: 'start' | 'inside' | 'after';
  /** Text held back because it may still turn into a tag ("<thi", "</thin") or is only whitespace. */
  held: string;
  /** Drop whitespace right after a tag ("<think>\n", "</think>\n\n"). */
  trim: boolean;
}

interface CallState {
  upstreamId: string | undefined;
  id: string;
  name: string | undefined;
  opened: boolean;
  outIndex: number;
  /** Arguments received before the call could be opened (its name had not arrived). */
  held: string;
  /** Arguments sent to the client. */
  args: string;
}

interface ChoiceState {
  index: number;
  text: { content: TextChannel; reasoning_content: TextChannel; reasoning: TextChannel };
  think: ThinkState;
  calls: CallState[];
  byUpstreamIndex: Map<number, CallState>;
  byId: Map<string, CallState>;
  openedCalls: number;
  content: string[];
  reasoning: string[];
  finishReason: string | null;
  finished: boolean;
}

const OPEN_TAG = '<think>';
const CLOSE_TAG = '</think>';
/**
 * A true delta that repeats the whole text so far is plausible only when short ("ha" "ha"); at this
 * length an exact repeat is a re-sent snapshot (Qwen Code's CUMULATIVE_DELTA_EXACT_REPEAT_MIN_LENGTH).
 */
const EXACT_REPEAT_MIN_LENGTH = 64;
/**
 * A stream that sends snapshots does so from its second chunk on (QwenLM/qwen-code PR #3896); one
 * that has sent this much as plain deltas is a delta stream, and its text need not be kept.
 */
const SNAPSHOT_WATCH_CHARS = 1024;

export function createStreamNormalizer(options: StreamNormalizerOptions = {}): StreamNormalizer {
  const newId = options.newToolCallId ?? randomToolCallId;
  const record = options.record === true;
  const choices = new Map<number, ChoiceState>();

  const stateOf = (index: number): ChoiceState => {
    let state = choices.get(index);
    if (!state) {
      state = {
        index,
        text: { content: channel(), reasoning_content: channel(), reasoning: channel() },
        think: { phase: 'start', held: '', trim: false },
        calls: [],
        byUpstreamIndex: new Map(),
        byId: new Map(),
        openedCalls: 0,
        content: [],
        reasoning: [],
        finishReason: null,
        finished: false,
      };
      choices.set(index, state);
    }
    return state;
  };

  const toolCallDelta = (state: ChoiceState, raw: unknown): Json | undefined => {
    if (!isObject(raw)) return undefined;
    const upstreamIndex = Number.isInteger(raw.index) ? (raw.index as number) : undefined;
    const id = typeof raw.id === 'string' && raw.id !== '' ? raw.id : undefined;
    const fn = isObject(raw.function) ? raw.function : {};
    const name = typeof fn.name === 'string' && fn.name.trim() !== '' ? fn.name : undefined;
    let args = typeof fn.arguments === 'string' ? fn.arguments : fn.arguments != null ? JSON.stringify(fn.arguments) : '';

    let call: CallState | undefined;
    let repeatedId = false;
    if (id !== undefined) {
      call = state.byId.get(id);
      if (call) {
        repeatedId = true;
      } else {
        const atIndex = upstreamIndex === undefined ? undefined : state.byUpstreamIndex.get(upstreamIndex);
        // Name or arguments may come before the id: the id-less call at that index adopts it.
        // Otherwise a new id is a new call, even at an index another call already used.
        if (atIndex && atIndex.upstreamId === undefined) {
          call = atIndex;
          call.upstreamId = id;
          if (!call.opened) call.id = id;
        } else {
          call = newCall(state, id, newId);
        }
        state.byId.set(id, call);
      }
    } else {
      // A continuation belongs to the last call seen at its upstream index.
      call = upstreamIndex === undefined ? state.calls[state.calls.length - 1] : state.byUpstreamIndex.get(upstreamIndex);
      call ??= newCall(state, undefined, newId);
    }
    if (upstreamIndex !== undefined) state.byUpstreamIndex.set(upstreamIndex, call);
    if (name !== undefined && call.name === undefined) call.name = name;

    // A chunk that repeats a finished call's id with its complete arguments is a replay (Qwen Code
    // ignores these too). Only equal-length input reaches the parse, so its cost is O(chunk).
    if (repeatedId && call.opened && args !== '' && args === call.args && isCompleteJson(args)) args = '';

    if (!call.opened) {
      call.held += args;
      if (call.name === undefined) return undefined;
      call.opened = true;
      call.outIndex = state.openedCalls++;
      call.args = call.held;
      call.held = '';
      return { index: call.outIndex, id: call.id, type: 'function', function: { name: call.name, arguments: call.args } };
    }
    if (args === '') return undefined;
    call.args += args;
    return { index: call.outIndex, function: { arguments: args } };
  };

  const normalizeChoice = (raw: Json): Json => {
    const index = typeof raw.index === 'number' ? raw.index : 0;
    const state = stateOf(index);
    const delta: Json = isObject(raw.delta) ? { ...raw.delta } : {};
    const upstreamFinish = typeof raw.finish_reason === 'string' ? raw.finish_reason : null;
    const finishing = upstreamFinish !== null && !state.finished;

    let reasoning = '';
    if (typeof delta.reasoning_content === 'string') reasoning += toDelta(state.text.reasoning_content, delta.reasoning_content);
    if (typeof delta.reasoning === 'string') reasoning += toDelta(state.text.reasoning, delta.reasoning);
    delete delta.reasoning_content;
    delete delta.reasoning;

    let content: string | undefined;
    if (typeof delta.content === 'string') {
      const text = toDelta(state.text.content, delta.content);
      const split = text === '' ? { content: '', reasoning: '' } : splitThink(state.think, text);
      content = split.content;
      reasoning += split.reasoning;
    }
    if (finishing) {
      const rest = flushThink(state.think);
      if (rest.content !== '') content = (content ?? '') + rest.content;
      reasoning += rest.reasoning;
    }
    if (content !== undefined) delta.content = content;
    // Qwen's name for it; `reasoning` (which some paths use instead) arrives under the same name.
    if (reasoning !== '') delta.reasoning_content = reasoning;

    const toolCalls: Json[] = [];
    if (Array.isArray(delta.tool_calls)) {
      for (const rawCall of delta.tool_calls) {
        const entry = toolCallDelta(state, rawCall);
        if (entry) toolCalls.push(entry);
      }
    }
    if (finishing) {
      for (const call of state.calls) {
        // A call whose name never came is dropped (Qwen Code keeps only named calls); a call that
        // streamed no arguments gets "{}" so clients can parse them, as OpenAI sends for no-arg tools.
        if (call.opened && call.args.trim() === '') {
          call.args += '{}';
          toolCalls.push({ index: call.outIndex, function: { arguments: '{}' } });
        }
      }
    }
    if (toolCalls.length > 0) delta.tool_calls = toolCalls;
    else delete delta.tool_calls;

    let finishReason = upstreamFinish;
    if (finishReason === 'stop' && state.openedCalls > 0) finishReason = 'tool_calls';
    if (finishing) {
      state.finished = true;
      state.finishReason = finishReason;
    }

    if (record && content) state.content.push(content);
    if (record && reasoning) state.reasoning.push(reasoning);
    return { ...raw, index, delta, finish_reason: finishReason };
  };

  return {
    chunk(chunk: Json): Json | null {
      const out: Json = { ...chunk };
      if (out.system_fingerprint === null) delete out.system_fingerprint;
      if (!Array.isArray(chunk.choices) || chunk.choices.length === 0) return out;
      let worthSending = out.usage !== null && out.usage !== undefined;
      out.choices = chunk.choices.map((raw: unknown) => {
        if (!isObject(raw)) return raw;
        if (raw.finish_reason === 'error_finish') {
          worthSending = true;
          return raw;
        }
        const choice = normalizeChoice(raw);
        if (carriesSomething(choice)) worthSending = true;
        return choice;
      });
      return worthSending ? out : null;
    },
    canPassThrough(field: 'content' | 'reasoning_content'): boolean {
      if (record || choices.size !== 1) return false;
      const state = choices.get(0);
      if (state === undefined || state.finished || state.calls.length > 0) return false;
      // Leaked <think> tags live in content only; reasoning needs no such watch.
      if (field === 'content' && (state.think.phase !== 'after' || state.think.held !== '' || state.think.trim)) return false;
      return state.text[field].settled;
    },
    finalContent(): AssembledChoice[] {
      return [...choices.values()]
        .sort((a, b) => a.index - b.index)
        .map((state) => ({
          index: state.index,
          content: state.content.join(''),
          reasoning_content: state.reasoning.join(''),
          tool_calls: state.calls
            .filter((call) => call.opened)
            .sort((a, b) => a.outIndex - b.outIndex)
            .map((call) => ({
              index: call.outIndex,
              id: call.id,
              type: 'function' as const,
              function: { name: call.name ?? '', arguments: call.args },
            })),
          finish_reason: state.finishReason,
        }));
    },
  };
}

/**
 * Moves a `<think>…</think>` block at the start of a complete text into reasoning (the non-stream
 * counterpart of what the stream normalizer does chunk by chunk).
 */
export function splitThinkTag(text: string): { content: string; reasoning: string } {
  const state: ThinkState = { phase: 'start', held: '', trim: false };
  const first = splitThink(state, text);
  const rest = flushThink(state);
  return { content: first.content + rest.content, reasoning: first.reasoning + rest.reasoning };
}

function channel(): TextChannel {
  return { acc: '', cumulative: false, settled: false };
}

/**
 * The part of `raw` that is new for this field: the suffix when `raw` is a snapshot of the whole
 * text so far, else `raw` itself.
 *
 * Cost is bounded by the chunk: the prefix comparison runs only when the chunk is at least as long
 * as the accumulated text, so it reads at most `raw.length` characters of it, and in a stream of
 * real deltas (short chunks, growing accumulation) it stops running after the first few chunks.
 * The "rewind" check reads at most `raw.length` characters too. Nothing rescans the accumulation.
 */
function toDelta(channel: TextChannel, raw: string): string {
  if (raw === '' || channel.settled) return raw;
  const { acc } = channel;
  if (acc !== '' && raw.length >= acc.length) {
    if (raw.length > acc.length && raw.startsWith(acc)) {
      channel.cumulative = true;
      channel.acc = raw;
      return raw.slice(acc.length);
    }
    if (raw === acc && (channel.cumulative || raw.length >= EXACT_REPEAT_MIN_LENGTH)) {
      channel.cumulative = true;
      return '';
    }
  } else if (channel.cumulative && acc.startsWith(raw)) {
    // A snapshot stream re-sending an older, shorter snapshot: nothing new. Only in a stream that
    // has already proven to send snapshots, so a real delta equal to a prefix is never dropped.
    return '';
  }
  // A real delta (a snapshot stream that stops matching has switched to deltas).
  channel.cumulative = false;
  channel.acc = acc + raw;
  if (channel.acc.length > SNAPSHOT_WATCH_CHARS) {
    channel.settled = true;
    channel.acc = '';
  }
  return raw;
}

/**
 * Splits content text into visible content and leaked reasoning. The tag is recognised only at
 * the start of the answer (after optional whitespace): a leak is the model's reasoning preamble,
 * while a `<think>` later in an answer is text the model means (code, explanations) and stays.
 * Reads only the new text plus at most a tag's length of held text.
 */
function splitThink(state: ThinkState, text: string): { content: string; reasoning: string } {
  let s = state.held + text;
  state.held = '';
  let content = '';
  let reasoning = '';
  for (;;) {
    if (state.phase === 'start') {
      const rest = s.trimStart();
      if (rest === '' || (OPEN_TAG.startsWith(rest) && rest !== OPEN_TAG)) {
        // Only whitespace, or "<thi…" that may still become the tag: wait for more.
        state.held = s;
        break;
      }
      if (rest.startsWith(OPEN_TAG)) {
        state.phase = 'inside';
        state.trim = true;
        s = rest.slice(OPEN_TAG.length);
        continue;
      }
      state.phase = 'after';
      content += s;
      break;
    }
    if (state.trim) {
      s = s.trimStart();
      if (s === '') break;
      state.trim = false;
    }
    if (state.phase === 'inside') {
      const end = s.indexOf(CLOSE_TAG);
      if (end >= 0) {
        reasoning += s.slice(0, end);
        s = s.slice(end + CLOSE_TAG.length);
        state.phase = 'after';
        state.trim = true;
        continue;
      }
      const keep = partialTagSuffix(s, CLOSE_TAG);
      reasoning += s.slice(0, s.length - keep);
      state.held = s.slice(s.length - keep);
      break;
    }
    content += s;
    break;
  }
  return { content, reasoning };
}

/** Releases held text at the end of a choice: it did not become a tag. */
function flushThink(state: ThinkState): { content: string; reasoning: string } {
  const held = state.held;
  state.held = '';
  return state.phase === 'inside' ? { content: '', reasoning: held } : { content: held, reasoning: '' };
}

/** Length of the longest end of `s` that is a proper beginning of `tag` (at most tag.length - 1). */
function partialTagSuffix(s: string, tag: string): number {
  for (let k = Math.min(tag.length - 1, s.length); k > 0; k--) {
    if (s.endsWith(tag.slice(0, k))) return k;
  }
  return 0;
}

function newCall(state: ChoiceState, upstreamId: string | undefined, newId: () => string): CallState {
  const call: CallState = { upstreamId, id: upstreamId ?? newId(), name: undefined, opened: false, outIndex: -1, held: '', args: '' };
  state.calls.push(call);
  return call;
}

/** Whether a normalised choice still tells the client anything. */
function carriesSomething(choice: Json): boolean {
  if (choice.finish_reason !== null && choice.finish_reason !== undefined) return true;
  if (choice.logprobs !== null && choice.logprobs !== undefined) return true;
  const delta = choice.delta as Json;
  return Object.values(delta).some((value) => value !== null && value !== undefined && value !== '');
}

function isCompleteJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function randomToolCallId(): string {
  return `call_${crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
