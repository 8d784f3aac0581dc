/**
 * Qwen-shaped SSE answers for the benchmark, built once and replayed as fast as possible: in memory
 * (a ReadableStream for handle() in-process) and over HTTP (the "firehose" upstream). The fake Qwen
 * spends more per piece than the gateway does, so it cannot feed a 4,000-chunk or 100 MB answer fast
 * enough to show the gateway's own cost; this does nothing but send bytes.
 */
import http from 'node:http';
import { listenOnLoopback } from '../../tests/support/listen-on-loopback.ts';

const encoder = new TextEncoder();

/** One answer: `chunks` content chunks of `chunkChars` characters each, then finish, usage, [DONE]. */
export interface AnswerShape {
  chunks: number;
  chunkChars: number;
  /** A thinking model's answer carries its text as reasoning_content (the fake's shape); default content. */
  reasoning?: boolean;
}

/** What a long answer looks like to the gateway: a 16k-token answer is about 4,000 chunks of 4 tokens (~16 characters). */
export const LONG_ANSWER: AnswerShape = { chunks: 4_000, chunkChars: 16 };
/** 100 MB of content in 4 KB chunks (about 25,600 frames of ~4.2 KB). */
export const HUGE_ANSWER: AnswerShape = { chunks: 25_600, chunkChars: 4_096 };

/** A chunk exactly as Qwen's OpenAI-compatible endpoint writes it (the fake's wire-bodies.ts shape). */
function chunkJson(choices: unknown[], usage: unknown = null): string {
  return JSON.stringify({
    choices,
    object: 'chat.completion.chunk',
    usage,
    created: 1_767_225_600,
    system_fingerprint: null,
    model: 'coder-model',
    id: 'chatcmpl-00000000-0000-0000-0000-000000000000',
  });
}

function frame(json: string): Uint8Array {
  return encoder.encode(`data: ${json}\n\n`);
}

/** Content of exactly `chars` characters, different from chunk to chunk (so no chunk looks like a repeated snapshot). */
function contentOf(i: number, chars: number): string {
  const head = `w${i} `;
  if (chars <= head.length) return head.slice(0, chars);
  const filler = 'lorem ipsum dolor sit amet, consectetur adipiscing elit. ';
  let text = head;
  while (text.length < chars) text += filler;
  return text.slice(0, chars);
}

/**
 * The answer's frames. A huge answer reuses a handful of distinct content frames cyclically, so
 * building it costs nothing and holding it costs a few frames, not 100 MB.
 */
export class Answer {
  readonly first: Uint8Array;
  readonly tail: Uint8Array[];
  readonly #body: Uint8Array[];
  readonly shape: AnswerShape;
  /** Total bytes on the wire. */
  readonly bytes: number;

  constructor(shape: AnswerShape) {
    this.shape = shape;
    this.first = frame(chunkJson([{ delta: { content: '', role: 'assistant' }, index: 0, logprobs: null, finish_reason: null }]));
    const distinct = Math.min(shape.chunks, 64);
    const delta = (i: number) =>
      shape.reasoning ? { content: null, reasoning_content: contentOf(i, shape.chunkChars) } : { content: contentOf(i, shape.chunkChars) };
    this.#body = Array.from({ length: distinct }, (_, i) => frame(chunkJson([{ finish_reason: null, logprobs: null, delta: delta(i), index: 0 }])));
    this.tail = [
      frame(chunkJson([{ finish_reason: 'stop', delta: { content: '', reasoning_content: null }, index: 0, logprobs: null }])),
      frame(chunkJson([], { prompt_tokens: 12, completion_tokens: Math.ceil((shape.chunks * shape.chunkChars) / 4), total_tokens: 12 + Math.ceil((shape.chunks * shape.chunkChars) / 4) })),
      encoder.encode('data: [DONE]\n\n'),
    ];
    let bytes = this.first.byteLength;
    for (let i = 0; i < shape.chunks; i++) bytes += this.frameAt(i).byteLength;
    for (const t of this.tail) bytes += t.byteLength;
    this.bytes = bytes;
  }

  /** Content frame i (0-based). */
  frameAt(i: number): Uint8Array {
    return this.#body[i % this.#body.length]!;
  }

  /** Every frame in order (first, content…, tail): one network read each, the worst case for per-read costs. */
  *frames(): Generator<Uint8Array> {
    yield this.first;
    for (let i = 0; i < this.shape.chunks; i++) yield this.frameAt(i);
    yield* this.tail;
  }

  /**
   * A fresh in-memory body that hands out one frame per read. With `yieldEvery`, it lets the event
   * loop run (timers: memory sampling) every that many frames, as a network source would; without,
   * the whole answer flows in microtasks.
   */
  stream(options: { yieldEvery?: number } = {}): ReadableStream<Uint8Array> {
    const it = this.frames();
    const every = options.yieldEvery ?? 0;
    let n = 0;
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (every > 0 && ++n % every === 0) await new Promise((resolve) => setImmediate(resolve));
          const next = it.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
      },
      { highWaterMark: 0 },
    );
  }
}

/** The long answer of a thinking model: the same 4,000 chunks, as reasoning_content. */
export const LONG_REASONING_ANSWER: AnswerShape = { ...LONG_ANSWER, reasoning: true };

/** A small answer for requests that must look like ordinary ones (the in-process store test). */
export const SMALL_ANSWER: AnswerShape = { chunks: 3, chunkChars: 6 };

/**
 * The firehose: an HTTP upstream that answers POST …/chat/completions with an Answer as fast as the
 * socket takes it, in writes of about 64 KB. Which answer: `firehose:<chunks>x<chars>` in the last
 * message's content; anything else gets a short one.
 */
export async function startFirehose(): Promise<{ url: string; close(): Promise<void> }> {
  const answers = new Map<string, Answer>();
  const answerFor = (text: string): Answer => {
    const match = /firehose:(\d+)x(\d+)/.exec(text);
    const key = match ? `${match[1]}x${match[2]}` : 'small';
    let answer = answers.get(key);
    if (!answer) {
      answer = new Answer(match ? { chunks: Number(match[1]), chunkChars: Number(match[2]) } : SMALL_ANSWER);
      answers.set(key, answer);
    }
    return answer;
  };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const text = Buffer.concat(parts).toString('utf8');
      const answer = answerFor(text);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      void (/firehose:\d+x\d+:paced/.test(text) ? paced(res, answer.frames()) : pump(res, answer.frames()));
    });
  });
  server.keepAliveTimeout = 60_000;
  const { url, close } = await listenOnLoopback(server);
  return { url, close };
}

/**
 * One frame per write, about a millisecond apart: each frame reaches the gateway in a read of its
 * own, as a model's tokens do, so per-read costs are counted once per chunk (a burst coalesces
 * hundreds of frames into one read).
 */
async function paced(res: http.ServerResponse, frames: Iterator<Uint8Array>): Promise<void> {
  res.flushHeaders();
  for (let next = frames.next(); !next.done; next = frames.next()) {
    if (res.destroyed) return;
    res.write(next.value);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  res.end();
}

const BATCH_BYTES = 64 * 1024;

async function pump(res: http.ServerResponse, frames: Iterator<Uint8Array>): Promise<void> {
  let batch: Uint8Array[] = [];
  let size = 0;
  const flush = async (): Promise<boolean> => {
    if (batch.length === 0) return true;
    const data = Buffer.concat(batch, size);
    batch = [];
    size = 0;
    if (res.destroyed) return false;
    if (!res.write(data)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    return !res.destroyed;
  };
  for (let next = frames.next(); !next.done; next = frames.next()) {
    batch.push(next.value);
    size += next.value.byteLength;
    if (size >= BATCH_BYTES && !(await flush())) return;
  }
  if (await flush()) res.end();
}
