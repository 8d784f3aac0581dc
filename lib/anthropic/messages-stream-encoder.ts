import type { GatewayError } from '../errors.ts';
import { plainDeltaLiteral, type StreamEncoder } from '../turn/stream-encoder.ts';
import { anthropicErrorEvent } from './anthropic-error.ts';
import { anthropicUsage, fullUsage, stopReason, THINKING_SIGNATURE, toolUseBlock, type MessageIdentity } from './chat-to-message.ts';

type Json = Record<string, unknown>;
type BlockType = 'text' | 'thinking' | 'tool_use';

export interface MessagesStreamOptions extends MessageIdentity {
  /** The prompt's size as estimated before Qwen counted it, for message_start (Qwen's count comes at the end). */
  estimatedInputTokens: number;
  requestId: string;
  /** The client asked for thinking without its text (`thinking.display: "omitted"`): reasoning is not sent. */
  omitThinking?: boolean;
  /** Rewords an error the way Claude Code's recovery expects (e.g. a context overflow). */
  reword?: (error: GatewayError) => GatewayError;
}

const PING = 'event: ping\ndata: {"type":"ping"}\n\n';

/**
 * Anthropic's streaming events for one answer, in exactly the order its SDKs and Claude Code
 * expect: message_start; per content block content_block_start, its deltas, content_block_stop;
 * one message_delta with stop_reason and usage; message_stop. Every event is named as its type.
 *
 * Qwen's reasoning, text and tool calls become thinking, text and tool_use blocks, opened as each
 * begins and closed when another kind starts (a thinking block gets its signature_delta first,
 * without which Claude Code discards the turn). Tool arguments stream as input_json_delta as they
 * come. A plain text or reasoning delta is re-framed around Qwen's own JSON string, never parsed.
 */
export function messagesStreamEncoder(options: MessagesStreamOptions): StreamEncoder {
  let next = 0;
  let open: { type: BlockType; index: number } | undefined;
  const toolBlocks = new Map<number, number>();
  let stop: string | undefined;

  const event = (type: string, data: string) => `event: ${type}\ndata: ${data}\n\n`;
  const close = (): string => {
    if (!open) return '';
    let out = '';
    if (open.type === 'thinking') {
      out += event('content_block_delta', `{"type":"content_block_delta","index":${open.index},"delta":{"type":"signature_delta","signature":"${THINKING_SIGNATURE}"}}`);
    }
    out += event('content_block_stop', `{"type":"content_block_stop","index":${open.index}}`);
    open = undefined;
    return out;
  };
  const start = (type: BlockType, block: Json): string => {
    const out = close();
    open = { type, index: next++ };
    return out + event('content_block_start', JSON.stringify({ type: 'content_block_start', index: open.index, content_block: block }));
  };
  /** A text or thinking delta, `literal` being its JSON string (quotes included). */
  const textDelta = (type: 'text' | 'thinking', literal: string): string => {
    let out = '';
    if (open?.type !== type) out += start(type, type === 'text' ? { type: 'text', text: '', citations: null } : { type: 'thinking', thinking: '', signature: '' });
    const deltaType = type === 'text' ? 'text_delta' : 'thinking_delta';
    return out + event('content_block_delta', `{"type":"content_block_delta","index":${open!.index},"delta":{"type":"${deltaType}","${type}":${literal}}}`);
  };
  const toolDelta = (call: Json): string => {
    const fn = (call.function ?? {}) as Json;
    const args = typeof fn.arguments === 'string' ? fn.arguments : '';
    let out = '';
    let index = toolBlocks.get(call.index as number);
    if (typeof call.id === 'string') {
      out += start('tool_use', toolUseBlock(call.id, fn.name, {}));
      index = open!.index;
      toolBlocks.set(call.index as number, index);
    }
    if (index === undefined || args === '') return out;
    return out + event('content_block_delta', JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args } }));
  };

  return {
    open: () =>
      event(
        'message_start',
        JSON.stringify({
          type: 'message_start',
          message: {
            id: options.id,
            type: 'message',
            role: 'assistant',
            model: options.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            stop_details: null,
            container: null,
            diagnostics: null,
            usage: fullUsage({ ...anthropicUsage(undefined), input_tokens: options.estimatedInputTokens, output_tokens: 1 }),
          },
        }),
      ),
    plainDelta: (field, data) =>
      field === 'content' ? textDelta('text', plainDeltaLiteral(field, data)) : options.omitThinking ? '' : textDelta('thinking', plainDeltaLiteral(field, data)),
    chunk(chunk) {
      const choice = (Array.isArray(chunk.choices) ? chunk.choices[0] : undefined) as Json | undefined;
      if (!choice) return '';
      const delta = (choice.delta ?? {}) as Json;
      let out = '';
      if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '' && !options.omitThinking) {
        out += textDelta('thinking', JSON.stringify(delta.reasoning_content));
      }
      if (typeof delta.content === 'string' && delta.content !== '') out += textDelta('text', JSON.stringify(delta.content));
      if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls as Json[]) out += toolDelta(call);
      if (typeof choice.finish_reason === 'string') stop = stopReason(choice.finish_reason);
      return out;
    },
    finish: (summary) =>
      close() +
      event(
        'message_delta',
        JSON.stringify({
          type: 'message_delta',
          delta: { stop_reason: stop ?? stopReason(summary.finishReason), stop_sequence: null, stop_details: null, container: null },
          usage: anthropicUsage(summary.usage),
        }),
      ) +
      event('message_stop', '{"type":"message_stop"}'),
    // Anthropic ends a failed stream with the error event alone: no block stop, no message_stop.
    fail: (error) => anthropicErrorEvent(options.reword ? options.reword(error) : error, options.requestId),
    keepAlive: () => PING,
  };
}
