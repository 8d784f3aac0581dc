import { describe, expect, test } from 'vitest';
import { messagesToChat } from '../../lib/anthropic/messages-to-chat.ts';
import { validateMessagesRequest } from '../../lib/anthropic/validate-messages-request.ts';
import { chatToMessage } from '../../lib/anthropic/chat-to-message.ts';
import { estimateChatTokens } from '../../lib/anthropic/estimate-tokens.ts';
import { classifyUpstreamFailure } from '../../lib/qwen/upstream-failure.ts';
import { parseUpstreamError, upstreamGatewayError } from '../../lib/qwen/upstream-error.ts';
import { assertAnthropicSchema } from '../support/anthropic-schema.ts';

const translate = (body: object) => messagesToChat(validateMessagesRequest(body)) as unknown as Record<string, any>;

describe('messagesToChat', () => {
  test('a single plain text block is sent as a string; cache markers keep only their type, at most four', () => {
    const block = (text: string) => ({ type: 'text', text, cache_control: { type: 'ephemeral', scope: 'global', ttl: '1h' } });
    const chat = translate({
      system: [block('s1'), block('s2')],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'plain' }] },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [block('u1'), block('u2'), block('u3')] },
      ],
    });
    expect(chat.messages[1]).toEqual({ role: 'user', content: 'plain' });
    const markers = JSON.stringify(chat.messages).match(/cache_control/g) ?? [];
    expect(markers).toHaveLength(4);
    expect(JSON.stringify(chat.messages)).not.toMatch(/scope|ttl/);
    expect(chat.messages[3].content.at(-1)).toEqual({ type: 'text', text: 'u3' });
  });

  test("Claude Code's billing metadata block is not sent to Qwen as instructions", () => {
    const chat = translate({
      system: [{ type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.332.1c9; cc_entrypoint=sdk-cli;' }, { type: 'text', text: 'You are an agent.' }],
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(chat.messages[0]).toEqual({ role: 'system', content: 'You are an agent.' });
  });

  test('tool_choice any/tool/none, and a forced choice stays for the shaper to judge against thinking', () => {
    const tools = [{ name: 'f', input_schema: { type: 'object' } }];
    expect(translate({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'any' } }).tool_choice).toBe('required');
    expect(translate({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'tool', name: 'f' } }).tool_choice).toEqual({ type: 'function', function: { name: 'f' } });
    expect(translate({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'none' } }).tool_choice).toBe('none');
    // Only hosted tools: nothing to offer Qwen, and no tool_choice without tools.
    const hosted = translate({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'web_search_20250305', name: 'web_search' }], tool_choice: { type: 'any' } });
    expect(hosted).not.toHaveProperty('tools');
    expect(hosted).not.toHaveProperty('tool_choice');
  });

  test('thinking and effort become Qwen switches; disabled wins over effort', () => {
    const base = { messages: [{ role: 'user', content: 'x' }] };
    expect(translate({ ...base, thinking: { type: 'enabled', budget_tokens: 4096 } })).toMatchObject({ enable_thinking: true, thinking_budget: 4096 });
    expect(translate({ ...base, thinking: { type: 'adaptive' }, output_config: { effort: 'max' } })).toMatchObject({ enable_thinking: true, reasoning_effort: 'xhigh' });
    expect(translate({ ...base, thinking: { type: 'disabled' }, output_config: { effort: 'high' } })).toEqual({ messages: [{ role: 'user', content: 'x' }], enable_thinking: false });
  });

  test('a tool result whose content is blocks keeps its text; non-object tool input round-trips as JSON', () => {
    const chat = translate({
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: [1, 2] } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] }] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":[1,2]}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'one\ntwo' },
    ]);
  });
});

describe('chatToMessage', () => {
  test("Qwen's completion as a Message the SDK's types describe; tool arguments that are not an object kept under raw", () => {
    const message = chatToMessage(
      {
        id: 'c',
        choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'Sure.', reasoning_content: 'why', tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'f', arguments: 'not json' } }] } }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, completion_tokens_details: { reasoning_tokens: 3 } },
      },
      { id: 'msg_x', model: 'claude-opus-4-7' },
    );
    assertAnthropicSchema('Message', message);
    expect(message).toMatchObject({ stop_reason: 'tool_use', usage: { input_tokens: 10, output_tokens: 5, output_tokens_details: { thinking_tokens: 3 } } });
    expect((message.content as any[]).map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect((message.content as any[])[2].input).toEqual({ raw: 'not json' });
  });
});

describe('estimateChatTokens', () => {
  test('about four ASCII characters a token, one per CJK character, a flat cost per image (not its base64 length)', () => {
    expect(estimateChatTokens({ messages: [{ role: 'user', content: 'a'.repeat(400) }] })).toBe(104);
    expect(estimateChatTokens({ messages: [{ role: 'user', content: '你好世界' }] })).toBe(8);
    const image = { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(1_000_000)}` } };
    expect(estimateChatTokens({ messages: [{ role: 'user', content: [image] }] })).toBe(1604);
  });
});

describe('classifyUpstreamFailure', () => {
  const info = (status: number, body: object | string) => parseUpstreamError(status, typeof body === 'string' ? body : JSON.stringify(body));
  test("Qwen's errors, classified once", () => {
    expect(classifyUpstreamFailure(info(429, { error: { code: 'insufficient_quota', message: 'Free allocated quota exceeded.' } }))).toEqual({ kind: 'quota' });
    expect(classifyUpstreamFailure(info(403, { error: { code: 'insufficient_quota', message: 'You exceeded your current quota' } }))).toEqual({ kind: 'quota' });
    expect(classifyUpstreamFailure(info(429, { error: { code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded' } }), '7')).toEqual({ kind: 'throttle', retryAfterMs: 7000 });
    expect(classifyUpstreamFailure(info(429, { error: { message: 'slow' } }))).toEqual({ kind: 'throttle', retryAfterMs: 10_000 });
    expect(classifyUpstreamFailure(info(400, { error: { code: 'invalid_parameter_error', message: '<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 98304]' } }))).toEqual({ kind: 'context_overflow', limit: 98304 });
    expect(classifyUpstreamFailure(info(503, { code: 'ModelUnavailable', message: 'Model is unavailable' }))).toEqual({ kind: 'overloaded' });
    expect(classifyUpstreamFailure(info(500, 'oops'))).toEqual({ kind: 'other' });
  });

  test("a context overflow is OpenAI's context_length_exceeded on the chat surface", () => {
    const error = upstreamGatewayError(info(400, { error: { message: 'Range of input length should be [1, 1000]' } }));
    expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', type: 'invalid_request_error', failure: { kind: 'context_overflow', limit: 1000 } });
  });
});
