import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { GatewayError } from '../../lib/errors.ts';
import { newResponseContext } from '../../lib/responses/response-object.ts';
import { responsesStreamEncoder } from '../../lib/responses/responses-stream-encoder.ts';
import { createCustomInputStream } from '../../lib/responses/custom-input-stream.ts';
import { toChatTools } from '../../lib/responses/to-chat-tools.ts';
import { relayQwenStream } from '../../lib/turn/relay-qwen-stream.ts';
import { validateResponsesSchema } from '../support/responses-schema.ts';

type Json = Record<string, any>;
const encoder = new TextEncoder();
const fixture = (name: string) => readFileSync(new URL(`../fixtures/qwen-streams/${name}`, import.meta.url), 'utf8');
const chunk = (delta: Json, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ delta, index: 0, logprobs: null, finish_reason: finish }], object: 'chat.completion.chunk', usage: null, model: 'coder-model', id: 'c1' })}\n\n`;
const usage = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } } })}\n\n`;

function upstream(text: string, opts: { hang?: boolean } = {}): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(encoder.encode(text));
      } else if (!opts.hang) controller.close();
      else return new Promise<void>(() => {});
    },
  });
}

/** Runs a Qwen SSE text through the relay with the Responses encoder; returns the raw text and the parsed events. */
async function run(text: string, request: Json = {}, opts: { hang?: boolean; keepAliveMs?: number; idleTimeoutMs?: number } = {}) {
  const { names } = toChatTools(request.tools);
  const ctx = newResponseContext(request, 'coder-model', names, true, Date.now());
  let finished: string | undefined;
  const out = relayQwenStream(upstream(text, opts), responsesStreamEncoder({ ctx, now: () => Date.now(), onFinished: (json) => (finished = json) }), {
    keepAliveMs: opts.keepAliveMs ?? 60_000,
    idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
    abortUpstream: () => {},
    onEnd: () => {},
  });
  const raw = await new Response(out).text();
  const frames = raw.split('\n\n').filter(Boolean);
  const events = frames.map((frame) => {
    const [eventLine, dataLine] = frame.split('\n');
    const data = JSON.parse(dataLine!.slice('data: '.length));
    expect(eventLine).toBe(`event: ${data.type}`);
    validateResponsesSchema('ResponseStreamEvent', data);
    return data as Json;
  });
  events.forEach((event, i) => expect(event.sequence_number).toBe(i));
  return { raw, events, types: events.map((e) => e.type as string), finished: finished === undefined ? undefined : (JSON.parse(finished) as Json) };
}

describe('the Responses stream encoder', () => {
  test('plain text: created, in_progress, the message item, deltas, done events, completed with usage', async () => {
    const { types, events, finished, raw } = await run(chunk({ role: 'assistant', content: '' }) + chunk({ content: 'Hé "llo"' }) + chunk({ content: ' 你好\n' }) + chunk({}, 'stop') + usage + 'data: [DONE]\n\n');
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(raw).not.toContain('[DONE]');
    const text = 'Hé "llo" 你好\n';
    expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')).toBe(text);
    expect(events[6]!.text).toBe(text);
    const completed = events.at(-1)!.response;
    expect(completed).toMatchObject({ status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text }] }] });
    expect(completed.usage).toEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 4, cache_write_tokens: 0 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 2 },
      total_tokens: 15,
    });
    expect(finished).toEqual(completed);
    validateResponsesSchema('Response', completed);
  });

  test('a long answer (more pieces than one block) comes out whole in the done events and the final response', async () => {
    const pieces = Array.from({ length: 1000 }, (_, i) => `piece ${i} "q" \\ é\n`);
    const upstreamText = chunk({ role: 'assistant', content: '' }) + pieces.map((p) => chunk({ content: p })).join('') + chunk({}, 'stop') + 'data: [DONE]\n\n';
    const { events } = await run(upstreamText);
    const whole = pieces.join('');
    expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')).toBe(whole);
    expect(events.find((e) => e.type === 'response.output_text.done')!.text).toBe(whole);
    expect(events.at(-1)!.response.output[0].content[0].text).toBe(whole);
  });

  test("Qwen's reasoning becomes a reasoning item streamed as summary text, before the answer", async () => {
    const { types, events } = await run(fixture('thinking.txt'), { include: ['reasoning.encrypted_content'] });
    const first = types.indexOf('response.reasoning_summary_text.delta');
    expect(first).toBeGreaterThan(0);
    expect(types.indexOf('response.reasoning_summary_text.done')).toBeLessThan(types.indexOf('response.output_text.delta'));
    const output = events.at(-1)!.response.output;
    expect(output.map((item: Json) => item.type)).toEqual(['reasoning', 'message']);
    expect(output[0].summary[0].text.length).toBeGreaterThan(0);
    expect(output[0].encrypted_content).toBe('');
    expect(events.filter((e) => e.type === 'response.reasoning_summary_text.delta').map((e) => e.delta).join('')).toBe(output[0].summary[0].text);
  });

  test('function calls: added, argument deltas, done with name and arguments; output indexes follow the text', async () => {
    const { events } = await run(fixture('tool-calls.txt'), { tools: [{ type: 'function', name: 'read_file', parameters: {} }] });
    const output = events.at(-1)!.response.output;
    expect(output[0].type).toBe('message');
    const calls = output.filter((item: Json) => item.type === 'function_call');
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      JSON.parse(call.arguments);
      const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta' && e.item_id === call.id).map((e) => e.delta).join('');
      expect(deltas).toBe(call.arguments);
      expect(events.find((e) => e.type === 'response.function_call_arguments.done' && e.item_id === call.id)).toMatchObject({ name: call.name, arguments: call.arguments });
    }
    expect(output.map((_: Json, i: number) => i)).toEqual(events.filter((e) => e.type === 'response.output_item.done').map((e) => e.output_index).sort());
  });

  test('a custom tool call streams its raw input, decoded from the one-string-parameter arguments, and namespaces come back', async () => {
    const patch = '*** Begin Patch\n*** Add File: a "b".txt\n+héllo\\world\n*** End Patch';
    const args = JSON.stringify({ input: patch });
    const pieces = args.match(/[\s\S]{1,5}/g)!;
    const text =
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'apply_patch', arguments: '' } }] }) +
      pieces.map((p) => chunk({ tool_calls: [{ index: 0, function: { arguments: p } }] })).join('') +
      chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'mcp__ping', arguments: '{}' } }] }) +
      chunk({}, 'tool_calls') +
      'data: [DONE]\n\n';
    const tools = [
      { type: 'custom', name: 'apply_patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: x' } },
      { type: 'namespace', name: 'mcp', tools: [{ type: 'function', name: 'ping' }] },
    ];
    const { events } = await run(text, { tools });
    const deltas = events.filter((e) => e.type === 'response.custom_tool_call_input.delta');
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.map((e) => e.delta).join('')).toBe(patch);
    expect(events.find((e) => e.type === 'response.custom_tool_call_input.done')!.input).toBe(patch);
    const output = events.at(-1)!.response.output;
    expect(output[0]).toMatchObject({ type: 'custom_tool_call', call_id: 'call_1', name: 'apply_patch', input: patch });
    expect(output[1]).toMatchObject({ type: 'function_call', call_id: 'call_2', namespace: 'mcp', name: 'ping', arguments: '{}' });
  });

  test('max_tokens cut: the terminal event is response.incomplete with the reason', async () => {
    const { events } = await run(chunk({ content: 'cut' }) + chunk({}, 'length') + 'data: [DONE]\n\n');
    expect(events.at(-1)).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } });
  });

  test('a silent upstream: keep-alives are numbered response.in_progress events, then response.failed ends the stream', async () => {
    const { types, events, finished } = await run(chunk({ content: 'a' }), {}, { hang: true, keepAliveMs: 20, idleTimeoutMs: 130 });
    expect(types.filter((t) => t === 'response.in_progress').length).toBeGreaterThanOrEqual(3);
    expect(types.at(-1)).toBe('response.failed');
    expect(events.at(-1)!.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: expect.stringMatching(/UPSTREAM_IDLE_TIMEOUT_MS/) } });
    expect(finished).toBeUndefined();
  });
});

describe('custom tool input, decoded as it streams', () => {
  test('escapes cut between fragments wait for their end', () => {
    const input = 'a\\b "q" \u00e9 \ud83d\ude00 \n end';
    const args = JSON.stringify({ input });
    for (const size of [1, 2, 3, 7]) {
      const stream = createCustomInputStream();
      let out = '';
      for (let i = 0; i < args.length; i += size) out += stream.push(args.slice(i, i + size));
      out += stream.finish(args);
      expect(out).toBe(input);
    }
  });

  test('arguments of another shape are sent whole at the end', () => {
    const stream = createCustomInputStream();
    expect(stream.push('{"query":')).toBe('');
    expect(stream.push('"x y"}')).toBe('');
    expect(stream.finish('{"query":"x y"}')).toBe('x y');
  });
});

describe('failures after the stream began, in the Responses words', () => {
  test('context overflow, quota and throttle get the codes clients act on', async () => {
    const { responseError } = await import('../../lib/responses/response-error.ts');
    expect(responseError(new GatewayError({ status: 400, message: 'too long', failure: { kind: 'context_overflow', limit: 1000 } })).code).toBe('context_length_exceeded');
    expect(responseError(new GatewayError({ status: 429, message: 'quota', failure: { kind: 'quota' } })).code).toBe('rate_limit_exceeded');
    const throttled = responseError(new GatewayError({ status: 429, message: 'slow down', failure: { kind: 'throttle', retryAfterMs: 7000 } }));
    expect(throttled).toEqual({ code: 'rate_limit_exceeded', message: 'slow down Please try again in 7s.' });
    expect(responseError(new GatewayError({ status: 503, message: 'busy', failure: { kind: 'overloaded' } })).code).toBe('server_is_overloaded');
    expect(responseError(new GatewayError({ status: 502, message: 'broken' })).code).toBe('server_error');
  });
});
