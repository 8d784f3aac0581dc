/**
 * `npm run bench`: the gateway's cost against the physical limit, side by side in one run, on
 * loopback, with the budgets beside the figures. See BENCHMARKS.md for the latest results and
 * scripts/bench/run.mjs for how this file is run.
 *
 *   npm run bench                 full run (about two minutes on 2 cores), writes BENCHMARKS.md
 *   npm run bench -- --quick      fewer samples, for trying the bench itself (BENCHMARKS.md untouched unless --out)
 *   npm run bench -- --check      exit 1 when a budget is missed
 *   npm run bench -- --out FILE   where to write the report
 *
 * Processes: this one is the load generator; the fake Qwen and the firehose run in one child, the
 * edge-runtime servers in another, each Worker in its own workerd (Miniflare). The in-process
 * measurements (CPU per chunk, memory, store traffic) run last, in a fresh child, after every
 * server has stopped.
 */
import { rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Child, runEdge, runUpstreams, type EdgeConfig, type EdgeReady, type UpstreamsReady } from './children.ts';
import { buildWorker, fileExists, vercelFunctionSizes } from './bundle-size.ts';
import { closedLoop, keepAliveAgent, timedCall, type Call, type Timing } from './http-client.ts';
import {
  HUGE_ANSWER,
  LONG_ANSWER,
  LONG_REASONING_ANSWER,
  measureCpuBreakdown,
  sampleCpuPerChunk,
  summarizeCpu,
  type CpuSamples,
  measureMemory,
  measureStoreTraffic,
  measureRequestCost,
  type RequestCost,
  type CpuBreakdown,
  type MemoryResult,
  type StoreResult,
} from './inproc.ts';
import { cpuTimeMs, hasProc, rssDuring } from './proc.ts';
import { ORDER, describeMachine, readCodeFacts, renderReport, type RequestCpu, type Results, type RuntimeCpu, type RuntimeMemory, type TargetKey } from './report.ts';
import { median, quantile } from './stats.ts';
import { startBareWorker, startWorker } from './workerd.ts';

const ROOT = process.env.BENCH_ROOT ?? process.cwd();
const CLIENT_KEY = 'sk-bench';

interface Options {
  quick: boolean;
  check: boolean;
  out: string | undefined;
}

function parseOptions(args: string[]): Options {
  const outAt = args.indexOf('--out');
  const quick = args.includes('--quick');
  const out = outAt >= 0 ? args[outAt + 1] : quick ? undefined : path.join(ROOT, 'BENCHMARKS.md');
  return { quick, check: args.includes('--check'), out };
}

const startedAt = performance.now();
const progress = (message: string) => process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);

/** Where a target is reached, for the small requests and for the firehose. */
interface Target {
  key: TargetKey;
  small: (stream: boolean) => Call;
  firehose: (spec: string) => Call;
  /** The processes serving its small requests and its firehose requests, for /proc CPU and RSS. */
  pid: number | undefined;
  firehosePid: number | undefined;
  /** The edge child can report its own heap too. */
  edge: boolean;
  /** What ends a complete stream of this target (Anthropic's streams have no [DONE]). */
  done?: string;
}

const smallBody = (stream: boolean) => JSON.stringify({ model: 'coder-model', stream, messages: [{ role: 'user', content: 'hi there' }] });
const messagesBody = (stream: boolean, content = 'hi there') => JSON.stringify({ model: 'coder-model', max_tokens: 1024, stream, messages: [{ role: 'user', content }] });
const firehoseBody = (spec: string) => JSON.stringify({ model: 'coder-model', stream: true, messages: [{ role: 'user', content: `firehose:${spec}` }] });

async function main(options: Options): Promise<void> {
  const work = path.join(ROOT, 'node_modules', '.cache', 'qwen-gateway-bench', `run-${process.pid}`);
  await mkdir(work, { recursive: true });
  const closers: Array<() => Promise<void>> = [];
  const quick = options.quick;
  // Ctrl-C: stop the workerd processes and the children before leaving.
  // (A terminal's Ctrl-C reaches this process twice: directly and forwarded by run.mjs.)
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) return;
    interrupted = true;
    progress('interrupted: stopping the servers');
    rmSync(work, { recursive: true, force: true });
    void Promise.allSettled(closers.splice(0).reverse().map((close) => close())).finally(() => process.exit(130));
  });
  try {
    // ---- 5. Bundle (first: the Worker under test is the one measured here) ----
    progress('bundling the Worker (wrangler deploy --dry-run) and the Vercel functions');
    const worker = await buildWorker(ROOT, path.join(work, 'cloudflare'));
    const vercelSizes = await vercelFunctionSizes(ROOT);

    // ---- servers ----
    progress('starting the fake Qwen and the firehose');
    const upstreams = new Child('upstreams');
    closers.push(() => upstreams.close());
    const up = await upstreams.ask<UpstreamsReady>('start');
    const gatewayEnv = (resourceUrl: string): Record<string, string> => ({
      QWEN_CLI_AUTH: JSON.stringify({ ...up.credentials, resource_url: resourceUrl }),
      QWEN_OAUTH_BASE_URL: up.oauthUrl,
      OPENAI_API_KEY: CLIENT_KEY,
      // No log line per request: every target runs without one, and the terminal stays readable.
      LOG_LEVEL: 'warn',
    });

    progress('starting workerd: the Worker (twice: fake Qwen, firehose) and the bare pass-through worker (twice)');
    const mfWorker = await startWorker(worker.scriptPath, gatewayEnv(up.apiUrl));
    closers.push(() => mfWorker.close());
    const mfWorkerFirehose = await startWorker(worker.scriptPath, gatewayEnv(up.firehoseUrl));
    closers.push(() => mfWorkerFirehose.close());
    const mfBare = await startBareWorker(up.apiUrl, up.firehoseUrl);
    closers.push(() => mfBare.close());
    // The JS floors get a workerd of their own, so that no target's request lands on a process the
    // previous request has just woken (see measureLatency).
    const mfBareJs = await startBareWorker(up.apiUrl, up.firehoseUrl);
    closers.push(() => mfBareJs.close());

    const haveVercel = await fileExists(path.join(ROOT, 'scripts/vercel/dev-server.mjs'));
    let edge: EdgeReady | undefined;
    let edgeChild: Child | undefined;
    if (haveVercel) {
      progress('starting edge-runtime: the Vercel functions (scripts/vercel/dev-server.mjs) and the bare pass-through');
      edgeChild = new Child('edge', ['--expose-gc']);
      closers.push(() => edgeChild!.close());
      const config: EdgeConfig = {
        root: ROOT,
        fakeEnv: gatewayEnv(up.apiUrl),
        firehoseEnv: gatewayEnv(up.firehoseUrl),
        upstream: up.apiUrl,
        firehose: up.firehoseUrl,
      };
      edge = await edgeChild.ask<EdgeReady>('start', config);
    } else {
      progress('scripts/vercel/dev-server.mjs is missing: the Vercel rows are skipped');
    }

    const direct = { authorization: `Bearer ${up.credentials.access_token}` };
    const client = { authorization: `Bearer ${CLIENT_KEY}` };
    const path_ = '/v1/chat/completions';
    const targets: Target[] = [
      {
        key: 'direct',
        small: (s) => ({ url: up.apiUrl + path_, headers: direct, body: smallBody(s) }),
        firehose: (spec) => ({ url: up.firehoseUrl + path_, headers: direct, body: firehoseBody(spec) }),
        pid: undefined,
        firehosePid: undefined,
        edge: false,
      },
      {
        key: 'worker-floor',
        small: (s) => ({ url: mfBare.url + path_, headers: direct, body: smallBody(s) }),
        firehose: (spec) => ({ url: `${mfBare.url}${path_}?firehose`, headers: direct, body: firehoseBody(spec) }),
        pid: mfBare.pid,
        firehosePid: mfBare.pid,
        edge: false,
      },
      {
        key: 'worker',
        small: (s) => ({ url: mfWorker.url + path_, headers: client, body: smallBody(s) }),
        firehose: (spec) => ({ url: mfWorkerFirehose.url + path_, headers: client, body: firehoseBody(spec) }),
        pid: mfWorker.pid,
        firehosePid: mfWorkerFirehose.pid,
        edge: false,
      },
    ];
    if (edge && edgeChild) {
      const e = edge;
      targets.push(
        {
          key: 'vercel-floor',
          small: (s) => ({ url: e.bareUrl + path_, headers: direct, body: smallBody(s) }),
          firehose: (spec) => ({ url: `${e.bareUrl}${path_}?firehose`, headers: direct, body: firehoseBody(spec) }),
          pid: edgeChild.pid,
          firehosePid: edgeChild.pid,
          edge: true,
        },
        {
          key: 'vercel',
          small: (s) => ({ url: e.vercelUrl + path_, headers: client, body: smallBody(s) }),
          firehose: (spec) => ({ url: e.vercelFirehoseUrl + path_, headers: client, body: firehoseBody(spec) }),
          pid: edgeChild.pid,
          firehosePid: edgeChild.pid,
          edge: true,
        },
      );
    }

    // The same gateways answering /v1/messages (Anthropic's protocol): latency only, beside the chat route.
    const surfaceTargets: Target[] = targets
      .filter((t) => t.key === 'worker' || t.key === 'vercel')
      .map((t) => ({
        ...t,
        key: `${t.key}-messages` as TargetKey,
        small: (stream: boolean) => ({ ...t.small(stream), url: t.small(stream).url.replace(path_, '/v1/messages'), body: messagesBody(stream) }),
        firehose: (spec: string) => ({ ...t.firehose(spec), url: t.firehose(spec).url.replace(path_, '/v1/messages'), body: messagesBody(true, `firehose:${spec}`) }),
        done: 'message_stop',
      }));

    // The floors with a JavaScript stream on the body path (see workerd.ts): the least any gateway
    // that reads the stream in JavaScript costs in that runtime.
    const jsFloors: Target[] = [];
    for (const runtime of ['worker', 'vercel'] as const) {
      const floor = targets.find((x) => x.key === `${runtime}-floor`);
      if (!floor) continue;
      const t: Target =
        runtime === 'worker'
          ? {
              ...floor,
              small: (st) => ({ ...floor.small(st), url: mfBareJs.url + path_ }),
              firehose: (spec) => ({ ...floor.firehose(spec), url: `${mfBareJs.url}${path_}?firehose` }),
              pid: mfBareJs.pid,
              firehosePid: mfBareJs.pid,
            }
          : floor;
      const via = (key: TargetKey, js: string): Target => ({
        ...t,
        key,
        small: (stream) => ({ ...t.small(stream), url: `${t.small(stream).url}?js=${js}` }),
        firehose: (spec) => ({ ...t.firehose(spec), url: `${t.firehose(spec).url}&js=${js}` }),
      });
      jsFloors.push(via(`${runtime}-js-floor`, 'reads'), via(`${runtime}-js-frames-floor`, 'frames'));
      if (runtime === 'worker') jsFloors.push(via('worker-js-double-floor', 'double'));
    }
    // The order the CPU and memory tables show them in: each gateway after its floors.
    const byKey = (keys: readonly TargetKey[]) =>
      keys.map((key) => [...targets, ...jsFloors, ...surfaceTargets].find((t) => t.key === key)).filter((t): t is Target => t !== undefined);
    const streamTargets = byKey(['worker-floor', 'worker-js-floor', 'worker', 'vercel-floor', 'vercel-js-floor', 'vercel']);
    // Bursts run through every target of the report's order except the direct path.
    const burstTargets = byKey(ORDER.filter((key) => key !== 'direct'));
    const pacedTargets = byKey(['worker-floor', 'worker-js-floor', 'worker-js-double-floor', 'worker', 'vercel-floor', 'vercel-js-floor', 'vercel']);

    // Every target answers both kinds of request, and both firehose routes, before anything is timed.
    const probe = keepAliveAgent(1);
    for (const t of targets) {
      await timedCall(probe, t.small(false));
      await timedCall(probe, t.small(true), '[DONE]');
      await timedCall(probe, t.firehose('10x16'), '[DONE]');
    }
    for (const t of jsFloors) await timedCall(probe, t.firehose('10x16'), '[DONE]');
    for (const t of surfaceTargets) {
      await timedCall(probe, t.small(true), t.done);
      await timedCall(probe, t.firehose('10x16'), t.done);
    }
    probe.destroy();

    // ---- 1. Added latency ----
    const rounds = quick ? 40 : 200;
    const warmup = quick ? 10 : 20;
    progress(`latency: ${rounds} sequential requests per cell (after ${warmup} warm-up), every target x 2 kinds, alternated`);
    // The JS floors too: the least any gateway that reads the stream in JavaScript adds to the first
    // byte. The order alternates processes (edge-runtime, workerd, ...): a request that lands on the
    // process the previous request has just used finds it awake and its caches warm, which would
    // favour whichever target comes second.
    const latency = await measureLatency(
      byKey(['direct', 'vercel-floor', 'worker-floor', 'vercel-js-floor', 'worker-js-floor', 'vercel', 'worker', 'vercel-messages', 'worker-messages']),
      rounds,
      warmup,
    );
    await upstreams.ask('forget');
    const requestCpu: RequestCpu[] = [];
    if (hasProc) {
      const n = quick ? 100 : 300;
      progress(`CPU per small request in the runtimes: ${n} sequential requests per target and kind`);
      for (const t of targets.filter((x) => x.pid !== undefined)) {
        const us = await cpuPerRequest(t, n);
        requestCpu.push({ target: t.key, kind: 'non-stream', us: us['non-stream'] }, { target: t.key, kind: 'stream', us: us.stream });
      }
      await upstreams.ask('forget');
    }

    // ---- 4. Throughput ----
    const levels = [1, 4, 16];
    const seconds = quick ? 0.7 : 2;
    progress(`throughput: concurrency ${levels.join(', ')} for ${seconds} s each per target (small streams)`);
    const throughput: Results['throughput'] = { seconds, levels, rows: {}, errors: 0 };
    for (const t of targets) {
      const row: number[] = [];
      for (const c of levels) {
        await closedLoop(t.small(true), c, 300, '[DONE]'); // warm-up at this concurrency
        const r = await closedLoop(t.small(true), c, seconds * 1000, '[DONE]');
        row.push(r.rps);
        throughput.errors += r.errors;
        await upstreams.ask('forget');
      }
      throughput.rows[t.key] = row;
    }

    // ---- 2. CPU per streamed chunk, in the runtimes (from /proc) ----
    const runtimeCpu: RuntimeCpu[] = [];
    const runtimeMemory: RuntimeMemory[] = [];
    if (hasProc) {
      const measured = streamTargets.filter((t) => t.firehosePid !== undefined);
      const burst = `${LONG_ANSWER.chunks}x${LONG_ANSWER.chunkChars}`;
      const pacedChunks = quick ? 200 : 800;
      const paced = `${pacedChunks}x${LONG_ANSWER.chunkChars}:paced`;
      const burstRuns = quick ? 3 : 7;
      const pacedRuns = quick ? 1 : 3;
      progress(`CPU in the runtimes: ${LONG_ANSWER.chunks}-chunk bursts (${burstRuns} runs) and ${pacedChunks} chunks one per read (${pacedRuns} runs), per target`);
      for (const t of burstTargets) runtimeCpu.push(await processCpu(t, burst, LONG_ANSWER.chunks, burstRuns, 'burst'));
      for (const t of pacedTargets) runtimeCpu.push(await processCpu(t, paced, pacedChunks, pacedRuns, 'paced'));

      // ---- 3. Memory of the runtimes while 100 MB stream through them ----
      progress(`memory in the runtimes: a ${Math.round((HUGE_ANSWER.chunks * HUGE_ANSWER.chunkChars) / 1e6)} MB answer through each target`);
      for (const t of measured) runtimeMemory.push(await processMemory(t, edgeChild));
    }

    // The servers go before the in-process part, which must have the machine to itself.
    progress('stopping the servers');
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});

    // ---- 2, 3, 6. In-process: handle() in Node, each part in a fresh process ----
    progress('in-process: memory for a 100 MB answer (handle() in a fresh Node process)');
    const memoryChild = new Child('inproc', ['--expose-gc']);
    closers.push(() => memoryChild.close());
    const memory = await memoryChild.ask<MemoryResult>('memory');
    await memoryChild.close();
    const processes = quick ? 1 : 3;
    progress(`in-process: CPU per chunk (handle() in ${processes} fresh Node process${processes > 1 ? 'es' : ''}), per request, store traffic`);
    const samples: ChunkResults[] = [];
    for (let i = 0; i < processes; i++) {
      const child = new Child('inproc', ['--expose-gc']);
      closers.push(() => child.close());
      samples.push(await child.ask<ChunkResults>('chunk', { quick }));
      await child.close();
    }
    const cpuChild = new Child('inproc', ['--expose-gc']);
    closers.push(() => cpuChild.close());
    const inproc = await cpuChild.ask<InprocResults>('rest', { quick });
    await cpuChild.close();
    const cpuResult = summarizeCpu(samples.map((s) => s.content));
    const cpuReasoning = summarizeCpu(samples.map((s) => s.reasoning));
    const cpuMessages = summarizeCpu(samples.map((s) => s.messages));
    const cpuResponses = summarizeCpu(samples.map((s) => s.responses));
    const cpuResponsesReasoning = summarizeCpu(samples.map((s) => s.responsesReasoning));
    const breakdown = medianBreakdown(samples.map((s) => s.breakdown));

    const results: Results = {
      meta: {
        date: new Date().toISOString(),
        command: `npm run bench${process.argv.slice(3).length ? ` -- ${process.argv.slice(3).join(' ')}` : ''}`,
        machine: await describeMachine(ROOT),
        seconds: (performance.now() - startedAt) / 1000,
        quick,
      },
      latency: { rounds, warmup, cells: latency, cpu: requestCpu },
      throughput,
      cpu: {
        inproc: cpuResult,
        reasoning: cpuReasoning,
        messages: cpuMessages,
        responses: cpuResponses,
        responsesReasoning: cpuResponsesReasoning,
        breakdown,
        request: inproc.request,
        runtimes: runtimeCpu,
      },
      memory: { inproc: memory, runtimes: runtimeMemory },
      bundle: { worker: worker.size, wranglerSays: worker.wranglerSays, vercel: vercelSizes },
      store: inproc.store,
      vercelSkipped: !haveVercel,
      code: await readCodeFacts(ROOT),
    };
    const { markdown, failed } = renderReport(results);
    process.stdout.write(`\n${markdown}\n`);
    if (options.out) {
      await writeFile(options.out, markdown);
      progress(`wrote ${path.relative(process.cwd(), options.out) || options.out}`);
    }
    progress(`done in ${results.meta.seconds.toFixed(0)} s`);
    if (options.check && failed.length > 0) {
      process.stderr.write(`budgets missed: ${failed.join('; ')}\n`);
      process.exitCode = 1;
    }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}

type LatencyCells = Results['latency']['cells'];

async function measureLatency(targets: Target[], rounds: number, warmup: number): Promise<LatencyCells> {
  const agents = new Map(targets.map((t) => [t.key, keepAliveAgent(1)]));
  const samples = new Map<string, Timing[]>();
  const kinds = [
    { kind: 'non-stream' as const, stream: false },
    { kind: 'stream' as const, stream: true },
  ];
  try {
    for (let i = 0; i < warmup + rounds; i++) {
      // Alternated request by request, so that drift (GC, CPU frequency, other load) hits every cell alike.
      for (const { kind, stream } of kinds) {
        for (const t of targets) {
          const timing = await timedCall(agents.get(t.key)!, t.small(stream), stream ? (t.done ?? '[DONE]') : undefined);
          if (i < warmup) continue;
          const key = `${kind}|${t.key}`;
          let list = samples.get(key);
          if (!list) samples.set(key, (list = []));
          list.push(timing);
        }
      }
    }
  } finally {
    for (const agent of agents.values()) agent.destroy();
  }
  const cells: LatencyCells = { 'non-stream': {}, stream: {} };
  for (const { kind } of kinds) {
    for (const t of targets) {
      const list = samples.get(`${kind}|${t.key}`) ?? [];
      const ttfb = list.map((s) => s.ttfbMs);
      const total = list.map((s) => s.totalMs);
      cells[kind][t.key] = { ttfbP50: median(ttfb), ttfbP99: quantile(ttfb, 0.99), totalP50: median(total), totalP99: quantile(total, 0.99) };
    }
  }
  return cells;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * CPU µs the serving process spends per small request (all its threads, /proc), for non-streams and
 * streams, over `n` sequential requests of each, in alternating blocks so that GC and drift spread
 * over both.
 */
async function cpuPerRequest(t: Target, n: number): Promise<{ 'non-stream': number; stream: number }> {
  const agent = keepAliveAgent(1);
  const spent = { 'non-stream': 0, stream: 0 };
  const blocks = 5;
  try {
    for (let i = 0; i < 20; i++) await timedCall(agent, t.small(i % 2 === 0));
    for (let block = 0; block < blocks; block++) {
      for (const stream of [false, true]) {
        const call = t.small(stream);
        await pause(20);
        const before = cpuTimeMs(t.pid!);
        for (let i = 0; i < n / blocks; i++) await timedCall(agent, call, stream ? '[DONE]' : undefined);
        await pause(20);
        spent[stream ? 'stream' : 'non-stream'] += cpuTimeMs(t.pid!) - before;
      }
    }
  } finally {
    agent.destroy();
  }
  return { 'non-stream': (spent['non-stream'] * 1000) / n, stream: (spent.stream * 1000) / n };
}

/** CPU the serving process spent on one long answer: /proc schedstat of all its threads, before and after. */
async function processCpu(t: Target, spec: string, chunks: number, runs: number, mode: RuntimeCpu['mode']): Promise<RuntimeCpu> {
  const agent = keepAliveAgent(1);
  const call = t.firehose(spec);
  await timedCall(agent, t.firehose(`${Math.min(chunks, 400)}x16`), t.done ?? '[DONE]'); // warm
  const samples: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      await pause(30);
      const before = cpuTimeMs(t.firehosePid!);
      await timedCall(agent, call, t.done ?? '[DONE]');
      await pause(30); // the stream's end-of-request work (log line, usage) runs just after the last byte
      samples.push(cpuTimeMs(t.firehosePid!) - before);
    }
  } finally {
    agent.destroy();
  }
  const ms = median(samples);
  return { target: t.key, mode, chunks, runs, ms, usPerChunk: (ms * 1000) / chunks };
}

/** RSS of the serving process (and, in edge-runtime, its V8 heap) while a 100 MB answer streams through it. */
async function processMemory(t: Target, edgeChild: Child | undefined): Promise<RuntimeMemory> {
  const agent = keepAliveAgent(1);
  const spec = `${HUGE_ANSWER.chunks}x${HUGE_ANSWER.chunkChars}`;
  try {
    await timedCall(agent, t.firehose('400x16'), '[DONE]');
    await pause(100);
    type Heap = { rss: number; heap: number };
    const heapBefore = t.edge && edgeChild ? await edgeChild.ask<Heap>('memory-start') : undefined;
    const started = performance.now();
    const run = await rssDuring(t.firehosePid!, () => timedCall(agent, t.firehose(spec), '[DONE]'));
    const seconds = (performance.now() - started) / 1000;
    const heap = t.edge && edgeChild ? await edgeChild.ask<{ peaks?: Heap; after: Heap }>('memory-stop') : undefined;
    return {
      target: t.key,
      bytes: run.result.bytes,
      seconds,
      rssBeforeMb: run.beforeMb,
      rssPeakMb: run.peakMb,
      rssAfterMb: run.afterMb,
      heapGrowthMb: heapBefore && heap?.peaks ? (heap.peaks.heap - heapBefore.heap) / 2 ** 20 : undefined,
    };
  } finally {
    agent.destroy();
  }
}

interface InprocResults {
  request: RequestCost;
  store: StoreResult;
}

/** One process's CPU measurements: the long answer plain and as reasoning, and the parts, side by side in that process. */
interface ChunkResults {
  content: CpuSamples;
  /** The same answer through /v1/messages (Anthropic's events). */
  messages: CpuSamples;
  reasoning: CpuSamples;
  /** The same answers on /v1/responses (typed events, the final Response, the stored record). */
  responses: CpuSamples;
  responsesReasoning: CpuSamples;
  breakdown: CpuBreakdown;
}

function medianBreakdown(parts: CpuBreakdown[]): CpuBreakdown {
  const first = parts[0]!;
  const out = { ...first };
  for (const key of Object.keys(first) as Array<keyof CpuBreakdown>) out[key] = median(parts.map((p) => p[key]));
  return out;
}

/** The in-process child: 'memory' (alone in its process, before anything has grown the heap), 'chunk' (CPU per chunk) or 'rest'. */
function runInproc(): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const message = raw as { id: number; type: string; payload?: { quick?: boolean } };
    void (async () => {
      try {
        const quick = message.payload?.quick === true;
        let payload: unknown;
        if (message.type === 'memory') {
          payload = await measureMemory(HUGE_ANSWER);
        } else if (message.type === 'chunk') {
          const runs = quick ? 9 : 15;
          payload = {
            content: await sampleCpuPerChunk(LONG_ANSWER, runs),
            messages: await sampleCpuPerChunk(LONG_ANSWER, runs, 'messages'),
            reasoning: await sampleCpuPerChunk(LONG_REASONING_ANSWER, runs),
            responses: await sampleCpuPerChunk(LONG_ANSWER, runs, 'responses'),
            responsesReasoning: await sampleCpuPerChunk(LONG_REASONING_ANSWER, runs, 'responses'),
            breakdown: await measureCpuBreakdown(LONG_ANSWER, quick ? 7 : 9),
          } satisfies ChunkResults;
        } else if (message.type === 'rest') {
          const request = await measureRequestCost(quick ? 100 : 500);
          const store = await measureStoreTraffic();
          payload = { request, store } satisfies InprocResults;
        } else if (message.type !== 'close') {
          throw new Error(`unknown request ${message.type}`);
        }
        process.send?.({ id: message.id, payload });
        if (message.type === 'close') setTimeout(() => process.exit(0), 50);
      } catch (error) {
        process.send?.({ id: message.id, error: error instanceof Error ? error.stack ?? error.message : String(error) });
      }
    })();
  });
}

const mode = process.argv[2];
if (mode === 'upstreams') await runUpstreams();
else if (mode === 'edge') await runEdge();
else if (mode === 'inproc') runInproc();
else {
  await main(parseOptions(process.argv.slice(3))).catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
