import { describe, expect, test } from 'vitest';
import { messagesStreamEncoder } from '../../lib/anthropic/messages-stream-encoder.ts';
import { plainDeltaLiteral } from '../../lib/turn/stream-encoder.ts';
import { relayQwenStream } from '../../lib/turn/relay-qwen-stream.ts';
import { GatewayError } from '../../lib/errors.ts';
import { assertAnthropicSchema } from '../support/anthropic-schema.ts';

const encoderOf = () => messagesStreamEncoder({ id: 'msg_1', model: 'claude-sonnet-4-6', estimatedInputTokens: 12, requestId: 'req_1' });
const frame = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
const usage = `data: ${JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: 30, completion_tokens: 7, total_tokens: 37, prompt_tokens_details: { cached_tokens: 20 } } })}\n\n`;

let plainDeltas = 0;
async function relay(text: string) {
  const body = new Response(text).body!;
  const encoder = encoderOf();
  const plain = encoder.plainDelta;
  plainDeltas = 0;
  encoder.plainDelta = (field, data) => (plainDeltas++, plain(field, data));
  const out = relayQwenStream(body, encoder, { keepAliveMs: 60_000, idleTimeoutMs: 60_000, abortUpstream: () => {}, onEnd: () => {} });
  const raw = await new Response(out).text();
  return raw
    .split('\n\n')
    .filter(Boolean)
    .map((f) => {
      const [eventLine, dataLine] = f.split('\n');
      const data = JSON.parse(dataLine!.slice(6));
      expect(eventLine).toBe(`event: ${data.type}`);
      if (data.type !== 'error') assertAnthropicSchema('RawMessageStreamEvent', data);
      return data;
    });
}

describe('plainDeltaLiteral', () => {
  test('cuts the JSON string out of a frame, escaped quotes and backslashes included', () => {
    const text = 'say "hi" \\ and \\"more\\" 你好\n';
    const data = JSON.stringify({ choices: [{ delta: { content: text }, finish_reason: null, index: 0 }] });
    const literal = plainDeltaLiteral('content', data);
    expect(JSON.parse(literal)).toBe(text);
    const reasoning = JSON.stringify({ choices: [{ delta: { content: null, reasoning_content: 'a\\' }, finish_reason: null, index: 0 }] });
    expect(JSON.parse(plainDeltaLiteral('reasoning_content', reasoning))).toBe('a\\');
  });
});

describe('messagesStreamEncoder', () => {
  test('reasoning, text and a tool call become signed thinking, text and tool_use blocks, in order', async () => {
    const events = await relay(
      frame({ role: 'assistant', content: null, reasoning_content: 'hmm' }) +
        frame({ content: null, reasoning_content: ' more' }) +
        frame({ content: 'Hello' }) +
        frame({ content: ' "you"' }) +
        frame({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'Bash', arguments: '{"comm' } }] }) +
        frame({ tool_calls: [{ index: 0, function: { arguments: 'and":"ls"}' } }] }) +
        frame({}, 'tool_calls') +
        usage +
        'data: [DONE]\n\n',
    );
    expect(events.map((e) => e.type + (e.delta?.type ? `:${e.delta.type}` : ''))).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta:thinking_delta',
      'content_block_delta:thinking_delta',
      'content_block_delta:signature_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta:text_delta',
      'content_block_delta:text_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta:input_json_delta',
      'content_block_delta:input_json_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0].message.usage.input_tokens).toBe(12);
    expect(events.filter((e) => e.delta?.type === 'text_delta').map((e) => e.delta.text).join('')).toBe('Hello "you"');
    expect(events[10].content_block).toMatchObject({ type: 'tool_use', id: 'toolu_call_1', name: 'Bash', input: {} });
    expect(JSON.parse(events.filter((e) => e.delta?.type === 'input_json_delta').map((e) => e.delta.partial_json).join(''))).toEqual({ command: 'ls' });
    const delta = events.at(-2);
    expect(delta.delta.stop_reason).toBe('tool_use');
    // Anthropic's input_tokens leave out what the cache served.
    expect(delta.usage).toMatchObject({ input_tokens: 10, cache_read_input_tokens: 20, output_tokens: 7 });
  });

  test('a long answer, past the point where plain deltas skip the parser, arrives whole', async () => {
    const pieces = Array.from({ length: 120 }, (_, i) => `line ${i} with a "quote" and \\ 你好\n`);
    const events = await relay(frame({ role: 'assistant', content: '' }) + pieces.map((p) => frame({ content: p })).join('') + frame({}, 'stop') + 'data: [DONE]\n\n');
    expect(events.filter((e) => e.delta?.type === 'text_delta').map((e) => e.delta.text).join('')).toBe(pieces.join(''));
    expect(events.filter((e) => e.type === 'content_block_start')).toHaveLength(1);
    // Most of it took the path that never parses Qwen's frames.
    expect(plainDeltas).toBeGreaterThan(60);
  });

  test('finish reasons map to stop reasons; an empty answer still closes properly', async () => {
    const events = await relay(frame({ content: 'cut' }) + frame({}, 'length') + 'data: [DONE]\n\n');
    expect(events.at(-2).delta.stop_reason).toBe('max_tokens');
    const empty = await relay(frame({ role: 'assistant', content: '' }) + frame({}, 'stop') + 'data: [DONE]\n\n');
    expect(empty.map((e) => e.type)).toEqual(['message_start', 'message_delta', 'message_stop']);
  });

  test('a failure ends the stream with an error event carrying the request id, and no message_stop', async () => {
    const encoder = encoderOf();
    const text = encoder.fail(new GatewayError({ status: 429, message: 'slow down', failure: { kind: 'throttle' } }), { chunks: 0 });
    expect(text).toBe('event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"slow down"},"request_id":"req_1"}\n\n');
    expect(encoder.keepAlive()).toBe('event: ping\ndata: {"type":"ping"}\n\n');
  });
});
