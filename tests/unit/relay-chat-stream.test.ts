import { describe, expect, test, vi } from 'vitest';
import { relayChatStream, type RelayOptions, type StreamSummary } from '../../lib/openai/relay-chat-stream.ts';

const encoder = new TextEncoder();
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  JSON.stringify({
    choices: [{ delta, index: 0, logprobs: null, finish_reason: finish }],
    object: 'chat.completion.chunk',
    usage: null,
    created: 1,
    system_fingerprint: null,
    model: 'coder-model',
    id: 'chatcmpl-1',
  });
const usageChunk = JSON.stringify({
  choices: [],
  object: 'chat.completion.chunk',
  usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
  created: 1,
  model: 'coder-model',
  id: 'chatcmpl-1',
});
const frames = (...datas: string[]) => datas.map((d) => `data: ${d}\n\n`).join('');
const complete = frames(chunk({ role: 'assistant', content: '' }), chunk({ content: 'héllo 你好' }), chunk({ content: '' }, 'stop'), usageChunk, '[DONE]');

/** An upstream body that yields the given byte pieces, then ends (or stays open when `hang`). */
function upstreamOf(pieces: Uint8Array[], opts: { hang?: boolean; failWith?: Error } = {}) {
  const cancel = vi.fn();
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < pieces.length) controller.enqueue(pieces[i++]!);
      else if (opts.failWith) controller.error(opts.failWith);
      else if (!opts.hang) controller.close();
      else return new Promise<void>(() => {});
    },
    cancel,
  });
  return { stream, cancel };
}

function relay(upstream: ReadableStream<Uint8Array>, overrides: Partial<RelayOptions> = {}) {
  let summary: StreamSummary | undefined;
  const abortUpstream = vi.fn();
  const out = relayChatStream(upstream, {
    includeUsage: false,
    keepAliveMs: 60_000,
    idleTimeoutMs: 60_000,
    abortUpstream,
    onEnd: (s) => (summary = s),
    ...overrides,
  });
  return { out, abortUpstream, summary: () => summary };
}

const readAll = async (stream: ReadableStream<Uint8Array>) => new Response(stream).text();
const dataOf = (text: string) =>
  text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice(6));

describe('relayChatStream', () => {
  test('passes content through unchanged and drops the usage chunk the client did not ask for', async () => {
    const { out, summary } = relay(upstreamOf([encoder.encode(complete)]).stream);
    const data = dataOf(await readAll(out));
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0]?.delta.content).join('')).toBe('héllo 你好');
    expect(chunks.some((c) => c.choices.length === 0)).toBe(false);
    expect(chunks.every((c) => !('system_fingerprint' in c))).toBe(true);
    expect(summary()?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
    expect(summary()?.finishReason).toBe('stop');
  });

  test('keeps the usage chunk when the client asked for it', async () => {
    const { out } = relay(upstreamOf([encoder.encode(complete)]).stream, { includeUsage: true });
    const chunks = dataOf(await readAll(out)).slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 8 } });
  });

  test('frames split at every byte boundary, inside UTF-8 characters, with CRLF and comments, come out whole', async () => {
    const wire = encoder.encode(
      `: keep-alive\r\n\r\n${complete.replaceAll('\n', '\r\n').replaceAll('data: ', 'data:')}`,
    );
    const expected = dataOf(await readAll(relay(upstreamOf([encoder.encode(complete)]).stream).out));
    const bytes = [...wire].map((b) => new Uint8Array([b]));
    const got = dataOf(await readAll(relay(upstreamOf(bytes).stream).out));
    expect(got).toEqual(expected);
  });

  test('an error_finish chunk becomes an OpenAI error frame, not answer text', async () => {
    const wire = frames(chunk({ content: 'partial' }), chunk({ content: 'Throttling: TPM(1/1)' }, 'error_finish'));
    const { out, summary } = relay(upstreamOf([encoder.encode(wire)]).stream);
    const data = dataOf(await readAll(out));
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!)).toEqual({
      error: { message: 'Throttling: TPM(1/1)', type: 'rate_limit_error', param: null, code: 'upstream_error_finish' },
    });
    expect(summary()?.error?.status).toBe(429);
  });

  test("DashScope's event:error frame becomes an error frame carrying its message and status", async () => {
    const wire =
      frames(chunk({ content: 'a' })) +
      'id:1\nevent:error\n:HTTP_STATUS/429\ndata:{"request_id":"r1","code":"Throttling.AllocationQuota","message":"Allocated quota exceeded, please increase your quota limit."}\n\n';
    const { out, summary } = relay(upstreamOf([encoder.encode(wire)]).stream);
    const last = JSON.parse(dataOf(await readAll(out)).at(-1)!);
    expect(last.error).toMatchObject({ code: 'Throttling.AllocationQuota', message: 'Allocated quota exceeded, please increase your quota limit.' });
    expect(summary()?.error?.status).toBe(429);
  });

  test('a finished answer that lost its [DONE] is closed properly', async () => {
    const wire = frames(chunk({ content: 'x' }), chunk({ content: '' }, 'stop'));
    const data = dataOf(await readAll(relay(upstreamOf([encoder.encode(wire)]).stream).out));
    expect(data.at(-1)).toBe('[DONE]');
  });

  test('an answer cut off before its finish_reason never ends as success', async () => {
    const wire = frames(chunk({ content: 'x' }));
    const data = dataOf(await readAll(relay(upstreamOf([encoder.encode(wire)]).stream).out));
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!).error.code).toBe('upstream_stream_incomplete');
  });

  test('a broken upstream connection ends with an error frame', async () => {
    const { stream } = upstreamOf([encoder.encode(frames(chunk({ content: 'x' })))], { failWith: new TypeError('socket reset') });
    const data = dataOf(await readAll(relay(stream).out));
    expect(JSON.parse(data.at(-1)!).error).toMatchObject({ code: 'upstream_stream_broken' });
  });

  test('sends keep-alive comments while Qwen is silent, then cuts it off at the idle timeout', async () => {
    const { stream, cancel } = upstreamOf([encoder.encode(frames(chunk({ content: 'thinking' })))], { hang: true });
    const { out, abortUpstream, summary } = relay(stream, { keepAliveMs: 5, idleTimeoutMs: 60 });
    const text = await readAll(out);
    expect(text).toContain(': keep-alive\n\n');
    expect(JSON.parse(dataOf(text).at(-1)!).error.code).toBe('upstream_idle_timeout');
    expect(abortUpstream).toHaveBeenCalledWith('idle timeout');
    expect(cancel).toHaveBeenCalled();
    expect(summary()?.error?.status).toBe(504);
  });

  test('a client that goes away cancels the upstream request', async () => {
    const { stream, cancel } = upstreamOf([encoder.encode(frames(chunk({ content: 'a' })))], { hang: true });
    const { out, abortUpstream, summary } = relay(stream);
    const reader = out.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"a"');
    await reader.cancel('bye');
    expect(abortUpstream).toHaveBeenCalledWith('client disconnected');
    expect(cancel).toHaveBeenCalled();
    expect(summary()?.error?.code).toBe('client_closed');
  });
});

describe('relayChatStream on long answers', () => {
  const line = (i: number) => `line ${i} of a long answer, with "quotes" and ünïcode\n`;
  const long = (n: number, extra: string[] = []) =>
    frames(chunk({ role: 'assistant', content: '' }), ...Array.from({ length: n }, (_, i) => chunk({ content: line(i) })), ...extra, chunk({ content: '' }, 'stop'), '[DONE]');

  test('plain content deltas come out as the same chunks (minus system_fingerprint: null), in order, complete', async () => {
    const data = dataOf(await readAll(relay(upstreamOf([encoder.encode(long(400))]).stream).out));
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(Array.from({ length: 400 }, (_, i) => line(i)).join(''));
    for (const c of chunks) expect(c).not.toHaveProperty('system_fingerprint');
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
    expect(data.at(-1)).toBe('[DONE]');
  });

  test("a thinking model's long reasoning and then its answer come out complete and in their own fields", async () => {
    const thinking = (i: number) => `step ${i}: consider "it" carefully\n`;
    const reasoningFrames = Array.from({ length: 300 }, (_, i) => chunk({ content: null, reasoning_content: thinking(i) }));
    const wire = frames(chunk({ role: 'assistant', content: null, reasoning_content: '' }), ...reasoningFrames, ...Array.from({ length: 50 }, (_, i) => chunk({ content: line(i) })), chunk({ content: '' }, 'stop'), '[DONE]');
    const chunks = dataOf(await readAll(relay(upstreamOf([encoder.encode(wire)]).stream).out)).slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe(Array.from({ length: 300 }, (_, i) => thinking(i)).join(''));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(Array.from({ length: 50 }, (_, i) => line(i)).join(''));
    for (const c of chunks) expect(c).not.toHaveProperty('system_fingerprint');
  });

  test('a tool call or reasoning late in a long answer still gets the careful treatment', async () => {
    const late = [
      chunk({ reasoning_content: '' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } }] }),
    ];
    const data = dataOf(await readAll(relay(upstreamOf([encoder.encode(long(200, late))]).stream).out));
    const calls = data
      .slice(0, -1)
      .map((d) => JSON.parse(d))
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    // The colliding index 0 of call_b is renumbered to 1.
    expect(calls.filter((c: { id?: string }) => c.id).map((c: { id: string; index: number }) => [c.id, c.index])).toEqual([
      ['call_a', 0],
      ['call_b', 1],
    ]);
    expect(data.some((d) => d.includes('"reasoning_content":""'))).toBe(false);
  });

  test('the frames one upstream read completes leave in one write', async () => {
    const { out } = relay(upstreamOf([encoder.encode(frames(chunk({ content: 'a' }), chunk({ content: 'b' }), chunk({ content: 'c' })))], { hang: true }).stream);
    const reader = out.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(dataOf(first).map((d) => JSON.parse(d).choices[0].delta.content)).toEqual(['a', 'b', 'c']);
    await reader.cancel();
  });
});
