/**
 * The measurements made in-process: the gateway's handle() called directly in Node, with the deps
 * every host builds (createDeps, a MemoryStore) and an in-memory upstream, so nothing but the
 * gateway's own work is on the clock.
 */
import { createDeps } from '../../lib/create-deps.ts';
import type { Deps } from '../../lib/deps.ts';
import { handle } from '../../lib/handle.ts';
import type { Clock } from '../../lib/clock.ts';
import { createConsoleLogger } from '../../lib/logger.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';
import type { Store, StoreSetOptions } from '../../lib/store/store.ts';
import { QWEN_OAUTH_TOKEN_PATH } from '../../lib/qwen/constants.ts';
import { relayChatStream } from '../../lib/openai/relay-chat-stream.ts';
import { createStreamNormalizer } from '../../lib/openai/stream-normalizer.ts';
import { createParser } from 'eventsource-parser';
import { Answer, HUGE_ANSWER, LONG_ANSWER, LONG_REASONING_ANSWER, SMALL_ANSWER, type AnswerShape } from './sse.ts';
import { median } from './stats.ts';

const UPSTREAM = 'http://upstream.bench.invalid';
const OAUTH = 'http://oauth.bench.invalid';
const CLIENT_KEY = 'sk-bench';

/** A controllable clock (store test) or the real one. */
class BenchClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
}

type StoreOp = 'get' | 'set' | 'delete' | 'setIfAbsent' | 'deleteIfValue' | 'extendIfValue' | 'incrementFields' | 'getFields';
const OPS: StoreOp[] = ['get', 'set', 'delete', 'setIfAbsent', 'deleteIfValue', 'extendIfValue', 'incrementFields', 'getFields'];
const zeroCounts = (): Record<StoreOp, number> => Object.fromEntries(OPS.map((op) => [op, 0])) as Record<StoreOp, number>;

/** Counts every call the gateway makes to its store. */
class CountingStore implements Store {
  readonly name: string;
  readonly atomicSetIfAbsent: boolean;
  counts = zeroCounts();
  keys: string[] = [];
  constructor(private readonly inner: Store) {
    this.name = `counting(${inner.name})`;
    this.atomicSetIfAbsent = inner.atomicSetIfAbsent;
  }
  #count(op: StoreOp, key: string) {
    this.counts[op]++;
    this.keys.push(`${op} ${key}`);
  }
  reset() {
    this.counts = zeroCounts();
    this.keys = [];
  }
  get(key: string) {
    this.#count('get', key);
    return this.inner.get(key);
  }
  set(key: string, value: string, options?: StoreSetOptions) {
    this.#count('set', key);
    return this.inner.set(key, value, options);
  }
  delete(key: string) {
    this.#count('delete', key);
    return this.inner.delete(key);
  }
  setIfAbsent(key: string, value: string, options?: StoreSetOptions) {
    this.#count('setIfAbsent', key);
    return this.inner.setIfAbsent(key, value, options);
  }
  deleteIfValue(key: string, value: string) {
    this.#count('deleteIfValue', key);
    return this.inner.deleteIfValue(key, value);
  }
  extendIfValue(key: string, value: string, ttlMs: number) {
    this.#count('extendIfValue', key);
    return this.inner.extendIfValue(key, value, ttlMs);
  }
  incrementFields(key: string, deltas: Record<string, number>, options?: StoreSetOptions) {
    this.#count('incrementFields', key);
    return this.inner.incrementFields(key, deltas, options);
  }
  getFields(key: string) {
    this.#count('getFields', key);
    return this.inner.getFields(key);
  }
}

interface Harness {
  /** How the upstream body is produced (memory runs let the event loop in now and then). */
  yieldEvery: number;
  deps: Deps;
  clock: BenchClock;
  store: CountingStore;
  /** The answer the next upstream call gets. */
  setAnswer(answer: Answer): void;
  refreshCalls: number;
  /** Background work (waitUntil) of the requests so far. */
  settle(): Promise<void>;
}

function harness(): Harness {
  const clock = new BenchClock();
  const store = new CountingStore(new MemoryStore(clock));
  let answer = new Answer(SMALL_ANSWER);
  let generation = 0;
  const background: Promise<unknown>[] = [];
  const h: Harness = {
    yieldEvery: 0,
    deps: undefined as unknown as Deps,
    clock,
    store,
    setAnswer: (a) => (answer = a),
    refreshCalls: 0,
    settle: async () => {
      await Promise.all(background.splice(0));
    },
  };
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    if (url === `${OAUTH}${QWEN_OAUTH_TOKEN_PATH}`) {
      h.refreshCalls++;
      generation++;
      return Response.json({
        access_token: `access-${generation}`,
        refresh_token: `refresh-${generation}`,
        token_type: 'Bearer',
        expires_in: 21_600,
        resource_url: UPSTREAM,
      });
    }
    if (url === `${UPSTREAM}/v1/chat/completions`) {
      if (typeof init?.body !== 'string') throw new Error('bench: the gateway sent a non-string body');
      if (!init.body.includes('"stream":true')) return Response.json(COMPLETION);
      return new Response(answer.stream({ yieldEvery: h.yieldEvery }), { status: 200, headers: { 'content-type': 'text/event-stream' } });
    }
    throw new Error(`bench: unexpected upstream URL ${url}`);
  };
  const env = {
    QWEN_CLI_AUTH: JSON.stringify({
      access_token: 'access-0',
      refresh_token: 'refresh-0',
      token_type: 'Bearer',
      resource_url: UPSTREAM,
      expiry_date: Date.now() + 6 * 3600_000,
    }),
    QWEN_OAUTH_BASE_URL: OAUTH,
    OPENAI_API_KEY: CLIENT_KEY,
    LOG_LEVEL: 'warn',
  };
  const base = createDeps({ env, store, clock, fetch: fetchFn as typeof fetch, logger: createConsoleLogger('warn') });
  h.deps = { ...base, waitUntil: (p) => void background.push(p.catch(() => {})) };
  return h;
}

const COMPLETION = {
  id: 'chatcmpl-00000000-0000-0000-0000-000000000000',
  object: 'chat.completion',
  created: 1_767_225_600,
  model: 'coder-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Echo: hi there' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 },
  system_fingerprint: null,
};

/** The client protocols the gateway serves; each is measured with its own request for the same answer. */
export type Surface = 'chat' | 'messages' | 'responses';

const SURFACE_REQUESTS: Record<Surface, { path: string; body: (stream: boolean) => object }> = {
  chat: { path: '/v1/chat/completions', body: (stream) => ({ model: 'coder-model', stream, messages: [{ role: 'user', content: 'hi there' }] }) },
  messages: { path: '/v1/messages', body: (stream) => ({ model: 'coder-model', max_tokens: 1024, stream, messages: [{ role: 'user', content: 'hi there' }] }) },
  // store left at its default (true): the stored record is part of the cost.
  responses: { path: '/v1/responses', body: (stream) => ({ model: 'coder-model', stream, input: 'hi there' }) },
};

function chatRequest(stream: boolean, surface: Surface = 'chat'): Request {
  const { path, body } = SURFACE_REQUESTS[surface];
  return new Request(`http://gateway.bench${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body(stream)),
  });
}

/** Reads a body to its end, keeping nothing; returns the byte count. */
async function drain(body: ReadableStream<Uint8Array> | null): Promise<number> {
  if (!body) return 0;
  const reader = body.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

async function throughGateway(h: Harness, surface: Surface = 'chat'): Promise<number> {
  const response = await handle(chatRequest(true, surface), h.deps);
  if (response.status !== 200) throw new Error(`bench: gateway answered ${response.status}: ${await response.text()}`);
  const bytes = await drain(response.body);
  await h.settle();
  return bytes;
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

export interface CpuResult {
  chunks: number;
  /** Runs pooled over every process that measured (see summarizeCpu). */
  runs: number;
  processes: number;
  /** Median CPU ms of one request through handle(), upstream production and client reading included. */
  gatewayMs: number;
  /** Median CPU ms of producing and reading the same frames without the gateway. */
  baselineMs: number;
  /** Median of (gateway run − the baseline run right after it): the gateway's own cost. */
  ownMs: number;
  ownUsPerChunk: number;
  /** The gateway's total CPU (with the stream plumbing it cannot avoid) per chunk. */
  totalUsPerChunk: number;
  bytesOut: number;
}

export interface CpuSamples {
  chunks: number;
  gateway: number[];
  baseline: number[];
  bytesOut: number;
}

/**
 * CPU per streamed chunk, one process's share: a long answer through handle(), alternated with
 * producing and reading the same frames without the gateway.
 */
export async function sampleCpuPerChunk(shape: AnswerShape = LONG_ANSWER, runs = 15, surface: Surface = 'chat'): Promise<CpuSamples> {
  const h = harness();
  const answer = new Answer(shape);
  h.setAnswer(answer);
  // Warm-up: the first requests parse credentials; then the optimising compiler needs a good many
  // runs before the code paths settle.
  for (let i = 0; i < 25; i++) {
    await throughGateway(h, surface);
    await drain(answer.stream());
  }
  const gateway: number[] = [];
  const baseline: number[] = [];
  let bytesOut = 0;
  for (let i = 0; i < runs; i++) {
    // Alternated, so drift (GC, frequency, a noisy neighbour) hits both. No forced GC in between:
    // a collection the work itself causes is part of its cost.
    let t = process.cpuUsage();
    bytesOut = await throughGateway(h, surface);
    gateway.push(cpuMs(t));
    t = process.cpuUsage();
    await drain(answer.stream());
    baseline.push(cpuMs(t));
  }
  return { chunks: shape.chunks, gateway, baseline, bytesOut };
}

/**
 * Pools the samples of several processes (a fresh process now and then runs at half speed on a
 * shared virtual machine; pooling keeps one such process from deciding the figure).
 */
export function summarizeCpu(samples: CpuSamples[]): CpuResult {
  const gateway = samples.flatMap((s) => s.gateway);
  const baseline = samples.flatMap((s) => s.baseline);
  const own = samples.flatMap((s) => s.gateway.map((g, i) => g - (s.baseline[i] ?? 0)));
  const chunks = samples[0]?.chunks ?? 0;
  const ownMs = Math.max(0, median(own));
  const gatewayMs = median(gateway);
  return {
    chunks,
    runs: gateway.length,
    processes: samples.length,
    gatewayMs,
    baselineMs: median(baseline),
    ownMs,
    ownUsPerChunk: (ownMs * 1000) / chunks,
    totalUsPerChunk: (gatewayMs * 1000) / chunks,
    bytesOut: samples[0]?.bytesOut ?? 0,
  };
}

export interface RequestCost {
  requests: number;
  /** CPU µs per small request through handle(), upstream and client included, and without the gateway. */
  streamUs: number;
  streamBaselineUs: number;
  nonStreamUs: number;
  nonStreamBaselineUs: number;
}

/** The gateway's fixed cost per request: small requests (a 5-event stream, a short JSON answer) through handle(). */
export async function measureRequestCost(requests = 300): Promise<RequestCost> {
  const h = harness();
  const small = new Answer(SMALL_ANSWER);
  h.setAnswer(small);
  const one = async (stream: boolean) => {
    const response = await handle(chatRequest(stream), h.deps);
    if (response.status !== 200) throw new Error(`bench: gateway answered ${response.status}: ${await response.text()}`);
    await drain(response.body);
    await h.settle();
  };
  const perRequestUs = async (work: () => Promise<unknown>) => {
    for (let i = 0; i < 50; i++) await work();
    const samples: number[] = [];
    for (let round = 0; round < 5; round++) {
      const t = process.cpuUsage();
      for (let i = 0; i < requests / 5; i++) await work();
      samples.push((cpuMs(t) * 1000) / (requests / 5));
    }
    return median(samples);
  };
  return {
    requests,
    streamUs: await perRequestUs(() => one(true)),
    streamBaselineUs: await perRequestUs(() => drain(new Response(small.stream()).body)),
    nonStreamUs: await perRequestUs(() => one(false)),
    nonStreamBaselineUs: await perRequestUs(() => Response.json(COMPLETION).text()),
  };
}

export interface CpuBreakdown {
  chunks: number;
  /** Producing and reading the frames through one ReadableStream: the floor. */
  plumbingMs: number;
  /** relayChatStream alone over the same stream (no handle(), no peek), minus the floor. */
  relayMs: number;
  /** A frame taken the careful way, without streams: decode, SSE parse, JSON.parse, normalize, JSON.stringify, encode. */
  carefulMs: number;
  /** Of which JSON.parse + JSON.stringify of the chunk alone. */
  jsonMs: number;
  /** Framing alone: TextDecoder + eventsource-parser over every frame, no streams. */
  sseMs: number;
  /** One pass-through ReadableStream layer over the same stream, minus the floor: the least any relay adds. */
  layerMs: number;
}

/**
 * The relay's upstream, in whichever form lib's relayChatStream takes it: a ReadableStream (it
 * calls getReader()) or a reader-like source (it calls read() and cancel()). Both are offered, so
 * the benchmark measures the relay as it is.
 */
function relaySource(stream: ReadableStream<Uint8Array>): Parameters<typeof relayChatStream>[0] {
  const reader = stream.getReader();
  return Object.assign(reader, { getReader: () => reader }) as unknown as Parameters<typeof relayChatStream>[0];
}

async function cpuMedian(runs: number, work: () => unknown): Promise<number> {
  for (let i = 0; i < 8; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.cpuUsage();
    await work();
    samples.push(cpuMs(t));
  }
  return median(samples);
}

/** Where the gateway's per-chunk CPU goes (each part measured alone, so the parts need not add up exactly). */
export async function measureCpuBreakdown(shape: AnswerShape = LONG_ANSWER, runs = 15): Promise<CpuBreakdown> {
  const answer = new Answer(shape);
  const plumbingMs = await cpuMedian(runs, () => drain(answer.stream()));
  const relayTotal = await cpuMedian(runs, () =>
    drain(
      relayChatStream(relaySource(answer.stream()), {
        includeUsage: false,
        keepAliveMs: 15_000,
        idleTimeoutMs: 300_000,
        abortUpstream: () => {},
        onEnd: () => {},
      }),
    ),
  );
  const carefulMs = await cpuMedian(runs, () => {
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    const normalizer = createStreamNormalizer();
    let bytes = 0;
    const parser = createParser({
      onEvent: (event) => {
        if (event.data === '[DONE]') return;
        const out = normalizer.chunk(JSON.parse(event.data) as Record<string, unknown>);
        if (out) bytes += encoder.encode(`data: ${JSON.stringify(out)}\n\n`).byteLength;
      },
    });
    for (const f of answer.frames()) parser.feed(decoder.decode(f, { stream: true }));
    return bytes;
  });
  const texts = [...answer.frames()].map((f) => new TextDecoder().decode(f).slice(6, -2)).filter((t) => t !== '[DONE]');
  const jsonMs = await cpuMedian(runs, () => {
    let n = 0;
    for (const t of texts) n += JSON.stringify(JSON.parse(t)).length;
    return n;
  });
  const sseMs = await cpuMedian(runs, () => {
    const decoder = new TextDecoder();
    let n = 0;
    const parser = createParser({ onEvent: (event) => void (n += event.data.length) });
    for (const f of answer.frames()) parser.feed(decoder.decode(f, { stream: true }));
    return n;
  });
  const layered = await cpuMedian(runs, () => {
    const reader = answer.stream().getReader();
    return drain(
      new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const next = await reader.read();
            if (next.done) controller.close();
            else controller.enqueue(next.value);
          },
        },
        { highWaterMark: 0 },
      ),
    );
  });
  return {
    chunks: shape.chunks,
    plumbingMs,
    relayMs: Math.max(0, relayTotal - plumbingMs),
    carefulMs,
    jsonMs,
    sseMs,
    layerMs: Math.max(0, layered - plumbingMs),
  };
}

export interface MemoryResult {
  answerBytes: number;
  /** Of which content characters (ASCII: bytes). */
  contentBytes: number;
  bytesOut: number;
  seconds: number;
  /** As the process sees it, no forced GC: peak minus before (MB). */
  rssGrowthMb: number;
  heapGrowthMb: number;
  /** Live heap: peak of heapUsed right after a forced GC, every 100 ms, minus before: what the stream holds on to. */
  liveHeapGrowthMb: number;
  /** The same figures for producing and reading the same bytes without the gateway. */
  baseline: { rssGrowthMb: number; heapGrowthMb: number; liveHeapGrowthMb: number };
  rssBeforeMb: number;
  heapBeforeMb: number;
  liveHeapAfterMb: number;
}

const MB = 1024 * 1024;

interface Sampled {
  bytes: number;
  rssGrowth: number;
  heapGrowth: number;
  liveGrowth: number;
  rssBefore: number;
  heapBefore: number;
  liveAfter: number;
  seconds: number;
}

/**
 * Runs `work` twice: once sampling RSS and heapUsed every 50 ms as they are (garbage included), once
 * forcing a GC every 100 ms before reading heapUsed (only what is still referenced: buffering shows
 * here, churn does not). Timers fire between reads: the in-memory stream yields at every frame.
 */
async function sampled(work: () => Promise<number>): Promise<Sampled> {
  const gc = () => {
    globalThis.gc?.();
    globalThis.gc?.();
  };
  const run = async (forceGc: boolean) => {
    gc();
    const before = process.memoryUsage();
    let rss = before.rss;
    let heap = before.heapUsed;
    const timer = setInterval(
      () => {
        if (forceGc) globalThis.gc?.();
        const m = process.memoryUsage();
        rss = Math.max(rss, m.rss);
        heap = Math.max(heap, m.heapUsed);
      },
      forceGc ? 100 : 50,
    );
    const started = performance.now();
    const bytes = await work();
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    const end = process.memoryUsage();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the stream's last callbacks settle
    gc();
    const after = process.memoryUsage();
    return { bytes, before, rss: Math.max(rss, end.rss), heap: Math.max(heap, forceGc ? after.heapUsed : end.heapUsed), after, seconds };
  };
  const plain = await run(false);
  const live = await run(true);
  return {
    bytes: plain.bytes,
    rssGrowth: (plain.rss - plain.before.rss) / MB,
    heapGrowth: (plain.heap - plain.before.heapUsed) / MB,
    liveGrowth: (live.heap - live.before.heapUsed) / MB,
    rssBefore: plain.before.rss / MB,
    heapBefore: plain.before.heapUsed / MB,
    liveAfter: live.after.heapUsed / MB,
    seconds: plain.seconds,
  };
}

/** Frames between two turns of the event loop in the memory runs (about 64 KB, a network read's worth). */
const YIELD_EVERY = 16;

/** Memory while a 100 MB answer streams through handle(): must stay flat. */
export async function measureMemory(shape: AnswerShape = HUGE_ANSWER): Promise<MemoryResult> {
  const h = harness();
  const answer = new Answer(shape);
  h.setAnswer(new Answer(SMALL_ANSWER));
  await throughGateway(h); // warm: credentials parsed, code compiled
  h.setAnswer(answer);
  h.yieldEvery = YIELD_EVERY;
  const run = await sampled(() => throughGateway(h));
  const base = await sampled(() => drain(answer.stream({ yieldEvery: YIELD_EVERY })));
  return {
    answerBytes: answer.bytes,
    contentBytes: shape.chunks * shape.chunkChars,
    bytesOut: run.bytes,
    seconds: run.seconds,
    rssGrowthMb: run.rssGrowth,
    heapGrowthMb: run.heapGrowth,
    liveHeapGrowthMb: run.liveGrowth,
    baseline: { rssGrowthMb: base.rssGrowth, heapGrowthMb: base.heapGrowth, liveHeapGrowthMb: base.liveGrowth },
    rssBeforeMb: run.rssBefore,
    heapBeforeMb: run.heapBefore,
    liveHeapAfterMb: run.liveAfter,
  };
}

export interface StoreCounts {
  requests: number;
  reads: number;
  writes: number;
  /** reads and writes per request */
  readsPerRequest: number;
  writesPerRequest: number;
  /** Requests that read anything, and the most reads one request made. */
  requestsThatRead: number;
  maxReadsInOneRequest: number;
  /** Reads made before the response started (on the request's critical path), over all requests. */
  hotPathReads: number;
  ops: string[];
}

export interface StoreResult {
  cold: StoreCounts;
  burst: StoreCounts;
  /** One request a second for ten minutes (simulated clock): the periodic background reads included. */
  paced: StoreCounts;
  refresh: StoreCounts & { refreshCalls: number };
}

const READ_OPS: StoreOp[] = ['get', 'getFields'];
const WRITE_OPS: StoreOp[] = ['set', 'delete', 'setIfAbsent', 'deleteIfValue', 'extendIfValue', 'incrementFields'];

async function countRequests(h: Harness, n: number, stream: boolean, stepMs: number): Promise<StoreCounts> {
  const total = zeroCounts();
  const ops = new Set<string>();
  let requestsThatRead = 0;
  let maxReads = 0;
  let hotPathReads = 0;
  for (let i = 0; i < n; i++) {
    h.store.reset();
    const response = await handle(chatRequest(stream), h.deps);
    hotPathReads += READ_OPS.reduce((s, op) => s + h.store.counts[op], 0);
    if (response.status !== 200) throw new Error(`bench: gateway answered ${response.status}: ${await response.text()}`);
    await drain(response.body);
    await h.settle();
    for (const op of OPS) total[op] += h.store.counts[op];
    for (const k of h.store.keys) ops.add(k);
    const reads = READ_OPS.reduce((s, op) => s + h.store.counts[op], 0);
    if (reads > 0) requestsThatRead++;
    maxReads = Math.max(maxReads, reads);
    h.clock.offset += stepMs;
  }
  const reads = READ_OPS.reduce((s, op) => s + total[op], 0);
  const writes = WRITE_OPS.reduce((s, op) => s + total[op], 0);
  return {
    requests: n,
    reads,
    writes,
    readsPerRequest: reads / n,
    writesPerRequest: writes / n,
    requestsThatRead,
    maxReadsInOneRequest: maxReads,
    hotPathReads,
    ops: [...ops].sort(),
  };
}

/** Store reads and writes per request: cold, steady state (a burst, and paced over ten minutes), and during a refresh. */
export async function measureStoreTraffic(): Promise<StoreResult> {
  const h = harness();
  const cold = await countRequests(h, 1, true, 10);
  const burst = await countRequests(h, 200, true, 10);
  // Paced over simulated time, so the pool's periodic work (the shared account view every 30 s, the
  // usage flush every 10 s) falls inside the run. The token (6 h) stays fresh throughout.
  const paced = await countRequests(h, 600, true, 1_000);
  // An expired access token: the next request refreshes it.
  h.clock.offset += 7 * 3600_000;
  const before = h.refreshCalls;
  const refresh = await countRequests(h, 1, true, 10);
  return { cold, burst, paced, refresh: { ...refresh, refreshCalls: h.refreshCalls - before } };
}

export { HUGE_ANSWER, LONG_ANSWER, LONG_REASONING_ANSWER };
