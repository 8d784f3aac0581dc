import type { GatewayError } from '../errors.ts';
import { plainDeltaLiteral, type StreamEncoder, type StreamSummary } from '../turn/stream-encoder.ts';
import { createCustomInputStream, type CustomInputStream } from './custom-input-stream.ts';
import { callItem, finalStatus, newId, responseShell, usageField, type ResponseContext } from './response-object.ts';
import { responseError } from './response-error.ts';

type Json = Record<string, unknown>;

export interface ResponsesEncoderOptions {
  ctx: ResponseContext;
  now: () => number;
  /** The final Response as JSON text, once the answer ended well (completed or incomplete): for the store. */
  onFinished?: (responseJson: string) => void;
}

/** An open text item (the answer, or the reasoning summary): its text kept as JSON string-literal pieces. */
interface TextItem {
  id: string;
  index: number;
  /**
   * The text so far: each piece the inside of a JSON string literal (escapes kept), so joining them
   * joins the text. A piece is a slice of Qwen's frame and would keep the whole frame alive, so every
   * BLOCK pieces are joined into one flat string (`blocks`): the frames go, at a copying cost linear
   * in the text.
   */
  pieces: string[];
  blocks: string[];
  /** `,"item_id":…,"delta":` of this item's delta events, built once. */
  deltaPrefix: string;
}

interface CallState {
  id: string;
  index: number;
  callId: string;
  qwenName: string;
  custom: CustomInputStream | undefined;
  args: string[];
}

const BLOCK = 256;
const OUTPUT_SENTINEL = '\u0000output\u0000';
const OUTPUT_SLOT = `"output":${JSON.stringify(OUTPUT_SENTINEL)}`;

/**
 * The Responses API's side of a stream: Qwen's chat chunks become the typed events OpenAI sends
 * (response.created, output_item.added, content_part.added, output_text.delta, …, response.completed),
 * each with `event: <type>` and a strictly increasing sequence_number. Codex reads only parsed
 * events, so the keep-alive is a real `response.in_progress` event; the stream ends right after
 * the terminal event (completed, incomplete or failed), with no `[DONE]` (OpenAI sends none here).
 *
 * Text is kept as the JSON string literals Qwen sent (plain deltas are never parsed) and spliced
 * into the `.done` events and the final response, which must carry the whole answer.
 */
export function responsesStreamEncoder(options: ResponsesEncoderOptions): StreamEncoder {
  const { ctx } = options;
  let seq = 0;
  const done: string[] = [];
  let nextIndex = 0;
  let reasoning: TextItem | undefined;
  let message: TextItem | undefined;
  const calls = new Map<number, CallState>();
  const inProgress = JSON.stringify(responseShell(ctx, 'in_progress'));

  const event = (type: string, body: string) => `event: ${type}\ndata: {"type":"${type}","sequence_number":${seq++}${body}}\n\n`;
  const itemEvent = (type: string, index: number, itemJson: string) => event(type, `,"output_index":${index},"item":${itemJson}`);

  const openText = (kind: 'reasoning' | 'message'): { item: TextItem; out: string } => {
    const index = nextIndex++;
    const id = newId(kind === 'message' ? 'msg' : 'rs');
    const where = `,"item_id":"${id}","output_index":${index}`;
    if (kind === 'message') {
      const item = { id, index, pieces: [], blocks: [], deltaPrefix: `${where},"content_index":0,"delta":` };
      const added = JSON.stringify({ type: 'message', id, status: 'in_progress', role: 'assistant', content: [] });
      return {
        item,
        out:
          itemEvent('response.output_item.added', index, added) +
          event('response.content_part.added', `${where},"content_index":0,"part":{"type":"output_text","text":"","annotations":[],"logprobs":[]}`),
      };
    }
    const item = { id, index, pieces: [], blocks: [], deltaPrefix: `${where},"summary_index":0,"delta":` };
    return {
      item,
      out:
        itemEvent('response.output_item.added', index, `{"type":"reasoning","id":"${id}","summary":[]}`) +
        event('response.reasoning_summary_part.added', `${where},"summary_index":0,"part":{"type":"summary_text","text":""}`),
    };
  };

  const closeMessage = (): string => {
    if (!message) return '';
    const { id, index } = message;
    const text = literalOf(message);
    const where = `,"item_id":"${id}","output_index":${index},"content_index":0`;
    const part = `{"type":"output_text","text":${text},"annotations":[],"logprobs":[]}`;
    const item = `{"type":"message","id":"${id}","status":"completed","role":"assistant","content":[${part}]}`;
    done[index] = item;
    message = undefined;
    return (
      event('response.output_text.done', `${where},"text":${text},"logprobs":[]`) +
      event('response.content_part.done', `${where},"part":${part}`) +
      itemEvent('response.output_item.done', index, item)
    );
  };

  const closeReasoning = (): string => {
    if (!reasoning) return '';
    const { id, index } = reasoning;
    const text = literalOf(reasoning);
    const where = `,"item_id":"${id}","output_index":${index},"summary_index":0`;
    const encrypted = ctx.includeEncrypted ? ',"encrypted_content":""' : '';
    const item = `{"type":"reasoning","id":"${id}","summary":[{"type":"summary_text","text":${text}}]${encrypted}}`;
    done[index] = item;
    reasoning = undefined;
    return (
      event('response.reasoning_summary_text.done', `${where},"text":${text}`) +
      event('response.reasoning_summary_part.done', `${where},"part":{"type":"summary_text","text":${text}}`) +
      itemEvent('response.output_item.done', index, item)
    );
  };

  /** A piece of text (a JSON string literal) for the answer or the reasoning, opening its item when needed. */
  const text = (field: 'content' | 'reasoning_content', literal: string): string => {
    const answer = field === 'content';
    let item = answer ? message : reasoning;
    let out = '';
    if (!item) {
      out += answer ? closeReasoning() : closeMessage();
      const opened = openText(answer ? 'message' : 'reasoning');
      item = opened.item;
      if (answer) message = item;
      else reasoning = item;
      out += opened.out;
    }
    item.pieces.push(literal.slice(1, -1));
    if (item.pieces.length === BLOCK) {
      item.blocks.push(item.pieces.join(''));
      item.pieces = [];
    }
    return out + (answer ? event('response.output_text.delta', `${item.deltaPrefix}${literal},"logprobs":[]`) : event('response.reasoning_summary_text.delta', `${item.deltaPrefix}${literal}`));
  };

  const toolCall = (delta: Json): string => {
    const chatIndex = typeof delta.index === 'number' ? delta.index : 0;
    const fn = (delta.function ?? {}) as Json;
    const fragment = typeof fn.arguments === 'string' ? fn.arguments : '';
    let call = calls.get(chatIndex);
    let out = '';
    if (!call) {
      out += closeReasoning() + closeMessage();
      const qwenName = typeof fn.name === 'string' ? fn.name : '';
      const custom = ctx.names.get(qwenName)?.custom === true;
      const callId = typeof delta.id === 'string' ? delta.id : newId('call');
      call = { id: newId(custom ? 'ctc' : 'fc'), index: nextIndex++, callId, qwenName, custom: custom ? createCustomInputStream() : undefined, args: [] };
      calls.set(chatIndex, call);
      const added = callItem(ctx.names, callId, qwenName, '', 'in_progress', call.id);
      out += itemEvent('response.output_item.added', call.index, JSON.stringify(added));
    }
    if (fragment === '') return out;
    call.args.push(fragment);
    const where = `,"item_id":"${call.id}","output_index":${call.index}`;
    if (!call.custom) return out + event('response.function_call_arguments.delta', `${where},"delta":${JSON.stringify(fragment)}`);
    const decoded = call.custom.push(fragment);
    return decoded === '' ? out : out + event('response.custom_tool_call_input.delta', `${where},"delta":${JSON.stringify(decoded)}`);
  };

  const closeCall = (call: CallState): string => {
    const args = call.args.join('');
    const item = callItem(ctx.names, call.callId, call.qwenName, args, 'completed', call.id);
    const itemJson = JSON.stringify(item);
    done[call.index] = itemJson;
    const where = `,"item_id":"${call.id}","output_index":${call.index}`;
    let out = '';
    if (call.custom) {
      const rest = call.custom.finish(args);
      if (rest !== '') out += event('response.custom_tool_call_input.delta', `${where},"delta":${JSON.stringify(rest)}`);
      out += event('response.custom_tool_call_input.done', `${where},"input":${JSON.stringify(item.input)}`);
    } else {
      out += event('response.function_call_arguments.done', `${where},"name":${JSON.stringify(item.name)},"arguments":${JSON.stringify(args)}`);
    }
    return out + itemEvent('response.output_item.done', call.index, itemJson);
  };

  const closeAll = (): string => {
    let out = closeReasoning() + closeMessage();
    for (const call of calls.values()) out += closeCall(call);
    calls.clear();
    return out;
  };

  /** The Response with everything finished so far as its output. */
  const responseJson = (extra: Json): string => {
    const shell = { ...responseShell(ctx, 'in_progress', OUTPUT_SENTINEL as never), ...extra };
    return JSON.stringify(shell).replace(OUTPUT_SLOT, `"output":[${done.filter((item) => item !== undefined).join(',')}]`);
  };

  return {
    open: () =>
      event('response.created', `,"response":${inProgress}`) + event('response.in_progress', `,"response":${inProgress}`),
    plainDelta: (field, data) => text(field, plainDeltaLiteral(field, data)),
    chunk(chunk) {
      const choice = (Array.isArray(chunk.choices) ? chunk.choices[0] : undefined) as Json | undefined;
      const delta = choice?.delta as Json | undefined;
      if (!delta) return '';
      let out = '';
      if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') {
        out += text('reasoning_content', JSON.stringify(delta.reasoning_content));
      }
      if (typeof delta.content === 'string' && delta.content !== '') out += text('content', JSON.stringify(delta.content));
      if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls as Json[]) out += toolCall(call);
      return out;
    },
    finish(summary: StreamSummary) {
      const out = closeAll();
      const { status, incomplete_details } = finalStatus(summary.finishReason);
      const json = responseJson({
        status,
        completed_at: Math.floor(options.now() / 1000),
        incomplete_details,
        ...usageField(summary.usage),
      });
      options.onFinished?.(json);
      const type = status === 'completed' ? 'response.completed' : 'response.incomplete';
      return out + event(type, `,"response":${json}`);
    },
    fail(error: GatewayError, summary: StreamSummary) {
      const json = responseJson({ status: 'failed', error: responseError(error), ...usageField(summary.usage) });
      return event('response.failed', `,"response":${json}`);
    },
    keepAlive: () => event('response.in_progress', `,"response":${inProgress}`),
  };
}

/** An item's whole text as one JSON string literal. */
function literalOf(item: TextItem): string {
  return `"${item.blocks.join('')}${item.pieces.join('')}"`;
}
