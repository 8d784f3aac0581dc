import { readdirSync, readFileSync } from 'node:fs';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { describe, expect, test } from 'vitest';
import { createStreamNormalizer, splitThinkTag, type StreamNormalizer } from '../../lib/openai/stream-normalizer.ts';
import { normalizeCompletion } from '../../lib/openai/normalize-completion.ts';
import { relayChatStream } from '../../lib/openai/relay-chat-stream.ts';
import { assertOpenAISchema } from '../support/openai-schema.ts';

type Json = Record<string, any>;

const FIXTURES = new URL('../fixtures/qwen-streams/', import.meta.url);
const fixtureNames = readdirSync(FIXTURES).filter((name) => name.endsWith('.txt')).sort();
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

interface ExpectedCall {
  id: string;
  name: string;
  arguments: unknown;
}
interface Expected {
  content: string;
  reasoning: string;
  toolCalls: ExpectedCall[];
  finish: string | null;
  /** How the upstream stream ends: [DONE], an in-band error, or a close without [DONE]. */
  end: 'done' | 'error' | 'eof';
  usage?: unknown;
}

const EXPECTED: Record<string, Expected> = {
  'thinking.txt': {
    content: 'Here is the function:\n\n```python\ndef hi():\n    print("你好")\n```',
    reasoning: '好的，用户想要一个 Python 函数。',
    toolCalls: [],
    finish: 'stop',
    end: 'done',
    usage: { prompt_tokens: 10, completion_tokens: 36, total_tokens: 46, completion_tokens_details: { reasoning_tokens: 12 } },
  },
  'tool-calls.txt': {
    content: "I'll read both files.",
    reasoning: '',
    toolCalls: [
      { id: 'call_5b1e0c7a9f2d4e31', name: 'read_file', arguments: { path: 'src/a.ts' } },
      { id: 'call_8d3f21c4e0a94b77', name: 'read_file', arguments: { path: 'src/b.ts' } },
      { id: 'call_c0ffee12345678ab', name: 'list_dir', arguments: {} },
      { id: 'call_d00dfeed87654321', name: 'get_time', arguments: {} },
    ],
    finish: 'tool_calls',
    end: 'done',
  },
  'error-finish.txt': { content: 'Hello there', reasoning: '', toolCalls: [], finish: null, end: 'error' },
  'sse-error-frame.txt': { content: 'Partial answer', reasoning: '', toolCalls: [], finish: null, end: 'error' },
  'no-done.txt': { content: 'Complete answer, no [DONE].', reasoning: '', toolCalls: [], finish: 'stop', end: 'eof' },
  'cached-usage.txt': {
    content: 'Answer from a cached prefix.',
    reasoning: '',
    toolCalls: [],
    finish: 'stop',
    end: 'done',
    usage: {
      prompt_tokens: 3019,
      completion_tokens: 104,
      total_tokens: 3123,
      prompt_tokens_details: {
        cached_tokens: 2048,
        cache_type: 'ephemeral',
        cache_creation_input_tokens: 971,
        cache_creation: { ephemeral_5m_input_tokens: 971 },
        text_tokens: 3019,
      },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  },
  'think-tag-leak.txt': {
    content: 'Hello! In prompts, wrap reasoning in `<think>` tags.',
    reasoning: 'The user wants a greeting.\n',
    toolCalls: [],
    finish: 'stop',
    end: 'done',
  },
  'accumulated-text.txt': {
    content: 'Hello! How can I help you today? Haha!',
    reasoning: 'The user says hi.',
    toolCalls: [],
    finish: 'stop',
    end: 'done',
  },
  'repeated-deltas.txt': { content: 'hahaha! 哈哈哈哈 ha', reasoning: '', toolCalls: [], finish: 'stop', end: 'done' },
};

/**
 * Assembles chunks the way an OpenAI client does (openai-node's ChatCompletionStream), and checks on
 * the way what stricter clients need: every chunk matches OpenAI's schema, a tool call's first delta
 * carries id, type and name, continuations carry only index and arguments, indices are dense.
 */
class ClientAssembler {
  content = '';
  reasoning = '';
  calls: Array<{ id: string; name: string; arguments: string }> = [];
  finish: string | null = null;
  usage: unknown;
  chunks = 0;

  add(chunk: Json): void {
    assertOpenAISchema('CreateChatCompletionStreamResponse', chunk);
    this.chunks++;
    expect(chunk).not.toHaveProperty('system_fingerprint', null);
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices as Json[]) {
      const delta = choice.delta as Json;
      expect(delta.reasoning_content, 'an empty reasoning_content is absent').not.toBe('');
      expect(delta).not.toHaveProperty('reasoning_content', null);
      if (typeof delta.content === 'string') this.content += delta.content;
      if (typeof delta.reasoning_content === 'string') this.reasoning += delta.reasoning_content;
      for (const call of (delta.tool_calls ?? []) as Json[]) {
        const known = this.calls[call.index];
        if (!known) {
          expect(call.index, 'tool call indices are dense').toBe(this.calls.length);
          expect(call).toMatchObject({ id: expect.any(String), type: 'function', function: { name: expect.stringMatching(/\S/) } });
          this.calls[call.index] = { id: call.id, name: call.function.name, arguments: call.function.arguments ?? '' };
        } else {
          expect(Object.keys(call).sort()).toEqual(['function', 'index']);
          expect(Object.keys(call.function)).toEqual(['arguments']);
          expect(call.function.arguments).not.toBe('');
          known.arguments += call.function.arguments;
        }
      }
      if (choice.finish_reason) this.finish = choice.finish_reason;
    }
  }

  result() {
    return {
      content: this.content,
      reasoning: this.reasoning,
      toolCalls: this.calls.map((call) => ({ id: call.id, name: call.name, arguments: JSON.parse(call.arguments) })),
      finish: this.finish,
    };
  }
}

interface Run {
  client: ClientAssembler;
  end: 'done' | 'error' | 'eof';
  errorStatus?: number;
  normalizer: StreamNormalizer;
}

/** Parses SSE text fed in the given pieces and runs every frame through a fresh normalizer, as the relay does. */
function runFrames(pieces: Iterable<string>): Run {
  const normalizer = createStreamNormalizer({ newToolCallId: idMaker(), record: true });
  const client = new ClientAssembler();
  let end: Run['end'] | undefined;
  let errorStatus: number | undefined;
  let lastStatus: number | undefined;
  const parser = createParser({
    onComment: (comment) => {
      const match = /HTTP_STATUS\/(\d{3})/.exec(comment);
      if (match) lastStatus = Number(match[1]);
    },
    onEvent: (event: EventSourceMessage) => {
      if (end) return;
      if (event.event === 'error') {
        end = 'error';
        errorStatus = lastStatus;
        return;
      }
      if (event.data === '[DONE]') {
        end = 'done';
        return;
      }
      const chunk = JSON.parse(event.data) as Json;
      if ((chunk.choices as Json[] | undefined)?.some((c) => c.finish_reason === 'error_finish')) {
        // The relay turns it into an error; the normalizer must leave it recognisable.
        expect((normalizer.chunk(chunk) as Json | null)?.choices[0].finish_reason).toBe('error_finish');
        end = 'error';
        return;
      }
      const out = normalizer.chunk(chunk);
      if (out) client.add(out);
    },
  });
  for (const piece of pieces) parser.feed(piece);
  return { client, end: end ?? 'eof', ...(errorStatus !== undefined ? { errorStatus } : {}), normalizer };
}

function* bytewise(text: string): Generator<string> {
  const decoder = new TextDecoder();
  for (const byte of new TextEncoder().encode(text)) yield decoder.decode(new Uint8Array([byte]), { stream: true });
  yield decoder.decode();
}

function idMaker(): () => string {
  let n = 0;
  return () => `call_gen_${n++}`;
}

describe('Qwen stream fixtures through the stream normalizer', () => {
  test('every fixture has an expected result', () => {
    expect(fixtureNames.length).toBeGreaterThan(0);
    expect(fixtureNames).toEqual(Object.keys(EXPECTED).sort());
  });

  describe.each(fixtureNames)('%s', (name) => {
    const expected = EXPECTED[name]!;

    test('assembles into the answer Qwen meant, every chunk valid OpenAI', () => {
      const run = runFrames([fixture(name)]);
      const { usage: expectedUsage, end, ...answer } = expected;
      expect(run.end).toBe(end);
      expect(run.client.result()).toEqual(answer);
      if (expectedUsage) expect(run.client.usage, 'usage passes through as Qwen sent it').toEqual(expectedUsage);
      const final = run.normalizer.finalContent()[0]!;
      expect(final.content).toBe(answer.content);
      expect(final.reasoning_content).toBe(answer.reasoning);
      expect(final.tool_calls.map((c) => ({ id: c.id, name: c.function.name, arguments: JSON.parse(c.function.arguments) }))).toEqual(answer.toolCalls);
    });

    test('one byte at a time (mid-UTF-8, mid-line) gives the same result', () => {
      const whole = runFrames([fixture(name)]);
      const split = runFrames(bytewise(fixture(name)));
      expect(split.end).toBe(whole.end);
      expect(split.client.result()).toEqual(whole.client.result());
      expect(split.client.usage).toEqual(whole.client.usage);
    });
  });

  test('the SSE error frame keeps its HTTP status comment', () => {
    expect(runFrames([fixture('sse-error-frame.txt')]).errorStatus).toBe(429);
  });
});

describe('Qwen stream fixtures through relayChatStream, one byte per read', () => {
  async function relayBytes(text: string, includeUsage = true): Promise<{ data: string[] }> {
    const bytes = [...new TextEncoder().encode(text)];
    let i = 0;
    const upstream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < bytes.length) controller.enqueue(new Uint8Array([bytes[i++]!]));
        else controller.close();
      },
    });
    const out = relayChatStream(upstream, {
      includeUsage,
      keepAliveMs: 60_000,
      idleTimeoutMs: 60_000,
      abortUpstream: () => {},
      onEnd: () => {},
    });
    const body = await new Response(out).text();
    const data: string[] = [];
    const parser = createParser({ onEvent: (event) => data.push(event.data) });
    parser.feed(body);
    return { data };
  }

  describe.each(fixtureNames)('%s', (name) => {
    const expected = EXPECTED[name]!;

    test('every frame is whole and valid, and the stream ends the way the fixture does', async () => {
      const { data } = await relayBytes(fixture(name));
      const last = data.at(-1)!;
      if (expected.end === 'error') {
        expect(data).not.toContain('[DONE]');
        expect(JSON.parse(last)).toMatchObject({ error: { message: expect.any(String) } });
      } else {
        // A finished answer that lost its [DONE] gets one from the relay.
        expect(last).toBe('[DONE]');
      }
      // The last frame is [DONE] or the error frame; every one before it is a chunk.
      for (const frame of data.slice(0, -1)) {
        assertOpenAISchema('CreateChatCompletionStreamResponse', JSON.parse(frame));
      }
    });

    test('assembles into the answer Qwen meant', async () => {
      const { data } = await relayBytes(fixture(name));
      const client = new ClientAssembler();
      for (const frame of data) {
        if (frame === '[DONE]') break;
        const parsed = JSON.parse(frame) as Json;
        if (parsed.error) break;
        client.add(parsed);
      }
      const { usage: _usage, end: _end, ...answer } = expected;
      expect(client.result()).toEqual(answer);
    });
  });
});

/** A Qwen chunk in DashScope's shape, for the focused cases below. */
function qwenChunk(delta: Json, finish: string | null = null, extra: Json = {}): Json {
  return {
    choices: [{ delta, finish_reason: finish, index: 0, logprobs: null }],
    object: 'chat.completion.chunk',
    usage: null,
    created: 1745485391,
    system_fingerprint: null,
    model: 'coder-model',
    id: 'chatcmpl-1',
    ...extra,
  };
}

/** Feeds deltas and returns what the client assembles. */
function feed(deltas: Array<[Json, string | null] | Json>, normalizer = createStreamNormalizer({ newToolCallId: idMaker(), record: true })) {
  const client = new ClientAssembler();
  const sent: Json[] = [];
  for (const item of deltas) {
    const [delta, finish] = Array.isArray(item) ? item : [item, null];
    const out = normalizer.chunk(qwenChunk(delta, finish));
    if (out) {
      sent.push(out);
      client.add(out);
    }
  }
  return { client, sent, normalizer };
}

describe('accumulated (snapshot) text', () => {
  test('legitimately repeated deltas are never dropped', () => {
    expect(feed([{ content: 'ha' }, { content: 'ha' }, { content: 'ha' }]).client.content).toBe('hahaha');
  });

  test('a true delta equal to a prefix of the text so far passes unchanged', () => {
    expect(feed([{ content: 'Hello' }, { content: ' world' }, { content: 'Hel' }]).client.content).toBe('Hello worldHel');
    expect(feed([{ content: 'Hello' }, { content: 'Hello' }]).client.content).toBe('HelloHello');
  });

  test('snapshots become suffixes, per field', () => {
    const { client } = feed([
      { content: null, reasoning_content: 'Let' },
      { content: null, reasoning_content: 'Let me' },
      { content: 'A', reasoning_content: '' },
      { content: 'AB' },
      { content: 'ABC' },
    ]);
    expect(client.reasoning).toBe('Let me');
    expect(client.content).toBe('ABC');
  });

  test('in a snapshot stream, a re-sent or older snapshot adds nothing', () => {
    expect(feed([{ content: 'one' }, { content: 'one two' }, { content: 'one two' }, { content: 'one' }, { content: 'one two three' }]).client.content).toBe(
      'one two three',
    );
  });

  test('a snapshot stream that switches to deltas is followed', () => {
    expect(feed([{ content: 'a' }, { content: 'ab' }, { content: 'c' }, { content: 'd' }]).client.content).toBe('abcd');
  });

  test('a long exact repeat of the whole text is a re-sent snapshot, a short one is text', () => {
    const long = 'x'.repeat(64);
    expect(feed([{ content: long }, { content: long }]).client.content).toBe(long);
    const short = 'y'.repeat(63);
    expect(feed([{ content: short }, { content: short }]).client.content).toBe(short + short);
  });

  test('the suffix of a snapshot that contains multi-byte characters is exact', () => {
    expect(feed([{ content: '你' }, { content: '你好' }, { content: '你好，世界' }]).client.content).toBe('你好，世界');
  });
});

describe('think tags leaked into content', () => {
  const text = '<think>\nplan it\n</think>\n\nThe answer.';

  test.each([...Array(text.length + 1).keys()])('split at %i', (at) => {
    const { client } = feed([{ content: text.slice(0, at) }, { content: text.slice(at) }, [{ content: '' }, 'stop']]);
    expect(client.reasoning).toBe('plan it\n');
    expect(client.content).toBe('The answer.');
  });

  test('every character in its own chunk', () => {
    const { client } = feed([...[...text].map((c) => ({ content: c })), [{ content: '' }, 'stop']]);
    expect(client.reasoning).toBe('plan it\n');
    expect(client.content).toBe('The answer.');
  });

  test('a <think> later in the answer is text and stays', () => {
    const { client } = feed([{ content: 'Use ' }, { content: '<think>' }, { content: ' tags.' }, [{ content: '' }, 'stop']]);
    expect(client.content).toBe('Use <think> tags.');
    expect(client.reasoning).toBe('');
  });

  test('text that only looked like the start of a tag is released', () => {
    expect(feed([{ content: '<thi' }, [{ content: '' }, 'stop']]).client.content).toBe('<thi');
    expect(feed([{ content: '<thi' }, { content: 's is html' }]).client.content).toBe('<this is html');
    expect(feed([{ content: '  ' }, { content: 'indented' }]).client.content).toBe('  indented');
  });

  test('an unterminated think block stays reasoning, including a held partial close tag', () => {
    const { client } = feed([{ content: '<think>abc</thi' }, [{ content: '' }, 'length']]);
    expect(client.reasoning).toBe('abc</thi');
    expect(client.content).toBe('');
  });

  test('reasoning_content and leaked tags in one stream keep their order', () => {
    const { client } = feed([{ content: null, reasoning_content: 'first. ' }, { content: '<think>second.</think>answer' }, [{ content: '' }, 'stop']]);
    expect(client.reasoning).toBe('first. second.');
    expect(client.content).toBe('answer');
  });

  test('splitThinkTag for whole texts', () => {
    expect(splitThinkTag(text)).toEqual({ reasoning: 'plan it\n', content: 'The answer.' });
    expect(splitThinkTag('plain <think> text')).toEqual({ reasoning: '', content: 'plain <think> text' });
    expect(splitThinkTag('<think>never closed')).toEqual({ reasoning: 'never closed', content: '' });
  });
});

describe('tool calls', () => {
  test('a new id at a used index gets the next free index; continuations follow the last call at their index', () => {
    const { client } = feed([
      { tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":' } }] },
      { tool_calls: [{ index: 0, id: 'b', type: 'function', function: { name: 'g', arguments: '{"y":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '2}' } }] },
      [{ content: '' }, 'tool_calls'],
    ]);
    // "a" was never finished by Qwen; its arguments stay as sent (the client sees what Qwen sent).
    expect(client.calls).toEqual([
      { id: 'a', name: 'f', arguments: '{"x":' },
      { id: 'b', name: 'g', arguments: '{"y":2}' },
    ]);
  });

  test('two calls in one chunk at the same index', () => {
    const { client } = feed([
      {
        tool_calls: [
          { index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
          { index: 0, id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
        ],
      },
      [{}, 'tool_calls'],
    ]);
    expect(client.result().toolCalls).toEqual([
      { id: 'a', name: 'f', arguments: {} },
      { id: 'b', name: 'g', arguments: {} },
    ]);
  });

  test('missing type is filled; a missing id is made up; id and name repeated on continuations are removed', () => {
    const { sent, client } = feed([
      { tool_calls: [{ index: 0, function: { name: 'f', arguments: '{"a"' } }] },
      { tool_calls: [{ index: 0, id: 'late', function: { name: 'f', arguments: ':1}' } }] },
      [{}, 'tool_calls'],
    ]);
    expect(sent[0]!.choices[0].delta.tool_calls[0]).toEqual({ index: 0, id: 'call_gen_0', type: 'function', function: { name: 'f', arguments: '{"a"' } });
    expect(sent[1]!.choices[0].delta.tool_calls[0]).toEqual({ index: 0, function: { arguments: ':1}' } });
    expect(client.calls).toEqual([{ id: 'call_gen_0', name: 'f', arguments: '{"a":1}' }]);
  });

  test('a call whose name arrives after its arguments is opened when the name comes', () => {
    const { client, sent } = feed([
      { tool_calls: [{ index: 0, id: 'x', function: { arguments: '{"q":' } }] },
      { tool_calls: [{ index: 0, function: { name: 'search', arguments: '"a"}' } }] },
      [{}, 'tool_calls'],
    ]);
    expect(sent[0]!.choices[0].delta.tool_calls[0]).toEqual({ index: 0, id: 'x', type: 'function', function: { name: 'search', arguments: '{"q":"a"}' } });
    expect(client.result().toolCalls).toEqual([{ id: 'x', name: 'search', arguments: { q: 'a' } }]);
  });

  test('a call whose name never comes is dropped', () => {
    const { client } = feed([{ tool_calls: [{ index: 0, id: 'x', function: { arguments: '{}' } }] }, [{ content: 'ok' }, 'stop']]);
    expect(client.calls).toEqual([]);
    expect(client.finish).toBe('stop');
  });

  test('empty argument chunks are dropped, and a chunk that carried only those is not sent', () => {
    const { sent, client } = feed([
      { tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"k":1}' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '' } }] },
      [{}, 'tool_calls'],
    ]);
    expect(sent).toHaveLength(3);
    expect(client.calls).toEqual([{ id: 'a', name: 'f', arguments: '{"k":1}' }]);
  });

  test('a call with no arguments at all ends with "{}"', () => {
    const { client } = feed([{ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'now', arguments: '' } }] }, [{}, 'tool_calls']]);
    expect(client.result().toolCalls).toEqual([{ id: 'a', name: 'now', arguments: {} }]);
  });

  test('a replay of a finished call (same id, complete arguments again) is ignored', () => {
    const call = { index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{"k":1}' } };
    const { client } = feed([{ tool_calls: [call] }, { tool_calls: [call] }, [{}, 'tool_calls']]);
    expect(client.calls).toEqual([{ id: 'a', name: 'f', arguments: '{"k":1}' }]);
  });

  test('arguments sent as an object are serialised', () => {
    const { client } = feed([{ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: { k: 1 } } }] }, [{}, 'tool_calls']]);
    expect(client.result().toolCalls).toEqual([{ id: 'a', name: 'f', arguments: { k: 1 } }]);
  });

  test('"stop" after tool calls becomes "tool_calls"', () => {
    const { client } = feed([{ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] }, [{ content: '' }, 'stop']]);
    expect(client.finish).toBe('tool_calls');
  });

  test('choices are tracked separately (n > 1)', () => {
    const normalizer = createStreamNormalizer({ newToolCallId: idMaker(), record: true });
    const chunk = (index: number, delta: Json, finish: string | null = null) => ({
      ...qwenChunk(delta, finish),
      choices: [{ delta, finish_reason: finish, index, logprobs: null }],
    });
    normalizer.chunk(chunk(0, { content: 'ab' }));
    normalizer.chunk(chunk(1, { content: 'ab' }));
    normalizer.chunk(chunk(1, { content: 'abc' }));
    normalizer.chunk(chunk(0, { content: 'x' }, 'stop'));
    normalizer.chunk(chunk(1, { content: '' }, 'stop'));
    expect(normalizer.finalContent().map((c) => c.content)).toEqual(['abx', 'abc']);
  });
});

describe('chunk-level rules', () => {
  test('empty or null reasoning_content is absent; system_fingerprint null removed; logprobs and usage kept', () => {
    const normalizer = createStreamNormalizer();
    const logprobs = { content: [{ token: 'a', logprob: -0.1, bytes: [97], top_logprobs: [] }], refusal: null };
    const out = normalizer.chunk({
      ...qwenChunk({ content: 'a', reasoning_content: '' }),
      choices: [{ delta: { content: 'a', reasoning_content: '' }, finish_reason: null, index: 0, logprobs }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }) as Json;
    expect(out).not.toHaveProperty('system_fingerprint');
    expect(out.choices[0].delta).toEqual({ content: 'a' });
    expect(out.choices[0].logprobs).toBe(logprobs);
    expect(out.usage).toEqual({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
    const finish = normalizer.chunk(qwenChunk({ content: '', reasoning_content: null }, 'stop')) as Json;
    expect(finish.choices[0].delta).toEqual({ content: '' });
  });

  test('the role chunk of a thinking stream keeps its role and drops the empty reasoning', () => {
    const out = createStreamNormalizer().chunk(qwenChunk({ content: null, role: 'assistant', reasoning_content: '' })) as Json;
    expect(out.choices[0].delta).toEqual({ content: null, role: 'assistant' });
  });

  test('usage-only chunks pass through', () => {
    const usage = { choices: [], object: 'chat.completion.chunk', usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }, created: 1, model: 'm', id: 'c' };
    expect(createStreamNormalizer().chunk(usage)).toEqual(usage);
  });

  test('the input chunk is not modified', () => {
    const input = qwenChunk({ content: '<think>a', reasoning_content: '' });
    const copy = structuredClone(input);
    createStreamNormalizer().chunk(input);
    expect(input).toEqual(copy);
  });

  test('per-chunk work is bounded by the chunk, not by the answer so far', () => {
    // Counts the characters the string searches may compare (the shorter operand bounds them): a
    // normalizer that rescanned the accumulated text would compare O(n²) characters over the stream.
    let compared = 0;
    const originals = {
      startsWith: String.prototype.startsWith,
      endsWith: String.prototype.endsWith,
      indexOf: String.prototype.indexOf,
    };
    const count = (name: keyof typeof originals) =>
      function (this: string, search: string, ...rest: unknown[]) {
        compared += Math.min(this.length, String(search).length) + (name === 'indexOf' ? this.length : 0);
        return (originals[name] as (...args: unknown[]) => unknown).call(this, search, ...rest);
      };
    let input = 0;
    try {
      for (const name of Object.keys(originals) as Array<keyof typeof originals>) (String.prototype as any)[name] = count(name);
      const deltas = createStreamNormalizer();
      for (let i = 0; i < 5_000; i++) {
        const text = `word${i % 10} `;
        input += text.length;
        deltas.chunk(qwenChunk({ content: text }));
      }
      const snapshots = createStreamNormalizer();
      let snapshot = '';
      for (let i = 0; i < 500; i++) {
        snapshot += `w${i % 10} `;
        input += snapshot.length;
        snapshots.chunk(qwenChunk({ content: snapshot }));
      }
    } finally {
      Object.assign(String.prototype, originals);
    }
    expect(compared).toBeLessThanOrEqual(4 * input);
  });
});

describe('normalizeCompletion (non-stream)', () => {
  const completion = (message: Json, finish = 'stop'): Json => ({
    choices: [{ message: { role: 'assistant', ...message }, finish_reason: finish, index: 0, logprobs: null }],
    object: 'chat.completion',
    usage: { prompt_tokens: 11, completion_tokens: 16, total_tokens: 27, prompt_tokens_details: { cached_tokens: 0 } },
    created: 1715252778,
    system_fingerprint: '',
    model: 'coder-model',
    id: 'chatcmpl-xxx',
  });

  test('a plain answer matches OpenAI', () => {
    const out = normalizeCompletion(completion({ content: 'hi' }));
    assertOpenAISchema('CreateChatCompletionResponse', out);
    expect(out.choices).toEqual([{ message: { role: 'assistant', content: 'hi', refusal: null }, finish_reason: 'stop', index: 0, logprobs: null }]);
  });

  test('tool calls: content null, finish "tool_calls", type and "{}" filled', () => {
    const out = normalizeCompletion(
      completion({ content: '', tool_calls: [{ id: 'call_1', function: { name: 'now', arguments: '' } }, { id: 'call_2', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }),
    ) as Json;
    assertOpenAISchema('CreateChatCompletionResponse', out);
    expect(out.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        refusal: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'now', arguments: '{}' } },
          { id: 'call_2', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
        ],
      },
    });
  });

  test('leaked think tags move to reasoning_content; empty reasoning is absent; null fingerprint removed', () => {
    const out = normalizeCompletion({ ...completion({ content: '<think>\nhm\n</think>\n\nAnswer.', reasoning_content: '' }), system_fingerprint: null }) as Json;
    assertOpenAISchema('CreateChatCompletionResponse', out);
    expect(out).not.toHaveProperty('system_fingerprint');
    expect(out.choices[0].message).toEqual({ role: 'assistant', content: 'Answer.', reasoning_content: 'hm\n', refusal: null });
  });

  test('reasoning_content from Qwen passes as it is', () => {
    const out = normalizeCompletion(completion({ content: 'A', reasoning_content: 'because' })) as Json;
    expect(out.choices[0].message.reasoning_content).toBe('because');
  });
});
