/**
 * The processes the benchmark starts beside itself, so that no server shares the load generator's
 * event loop:
 * - "upstreams": the fake Qwen (tests/fake-qwen) and the firehose;
 * - "edge": the Vercel functions in edge-runtime (scripts/vercel/dev-server.mjs, the server
 *   `npm run dev:vercel` runs) and a bare pass-through in the same runtime, served the same way.
 * Each talks to the parent over the IPC channel of child_process.fork.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EdgeRuntime, createHandler } from 'edge-runtime';
import { startFakeQwen } from '../../tests/fake-qwen/index.ts';
import { listenOnLoopback } from '../../tests/support/listen-on-loopback.ts';
import type { QwenCredentials } from '../../tests/fake-qwen/index.ts';
import type { startVercelDevServer as StartVercelDevServer } from '../vercel/dev-server.mjs';
import { startFirehose } from './sse.ts';
import { JS_STREAM } from './workerd.ts';

export interface UpstreamsReady {
  apiUrl: string;
  oauthUrl: string;
  firehoseUrl: string;
  credentials: QwenCredentials;
}

export interface EdgeConfig {
  root: string;
  /** Env of the Vercel functions in front of the fake, and of those in front of the firehose. */
  fakeEnv: Record<string, string>;
  firehoseEnv: Record<string, string>;
  upstream: string;
  firehose: string;
}

export interface EdgeReady {
  vercelUrl: string;
  vercelFirehoseUrl: string;
  bareUrl: string;
}

type Message = { id: number; type: string; payload?: unknown };

/** A forked child of this same bundle, with request/response over IPC. */
export class Child {
  readonly process: ChildProcess;
  #next = 0;
  #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(mode: string, execArgv: string[] = []) {
    this.process = fork(process.argv[1]!, [mode], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.process.on('message', (raw) => {
      const message = raw as Message & { error?: string };
      const waiter = this.#waiting.get(message.id);
      if (!waiter) return;
      this.#waiting.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error));
      else waiter.resolve(message.payload);
    });
    this.process.on('exit', (code) => {
      for (const waiter of this.#waiting.values()) waiter.reject(new Error(`the ${mode} process exited (${code})`));
      this.#waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  ask<T>(type: string, payload?: unknown): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.process.send({ id, type, payload } satisfies Message);
    });
  }

  async close(): Promise<void> {
    if (this.process.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    await this.ask('close').catch(() => {});
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
    if (this.process.exitCode === null) this.process.kill();
  }
}

/** The child side: answers the parent's requests with `handlers`. */
function serve(handlers: Record<string, (payload: unknown) => unknown>): void {
  // The parent went away (interrupted, crashed): do not linger with open servers.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const message = raw as Message;
    void (async () => {
      try {
        const handler = handlers[message.type];
        if (!handler) throw new Error(`unknown request ${message.type}`);
        const payload = await handler(message.payload);
        process.send?.({ id: message.id, payload });
        if (message.type === 'close') setTimeout(() => process.exit(0), 50);
      } catch (error) {
        process.send?.({ id: message.id, error: error instanceof Error ? error.stack ?? error.message : String(error) });
      }
    })();
  });
}

export async function runUpstreams(): Promise<void> {
  // No rpm limit or daily quota: the benchmark sends far more than Qwen's free tier allows.
  const fake = await startFakeQwen({ resourceUrlStyle: 'http', rpmLimit: null, dailyQuota: null });
  const firehose = await startFirehose();
  serve({
    start: (): UpstreamsReady => ({
      apiUrl: fake.apiUrl,
      oauthUrl: fake.oauthUrl,
      firehoseUrl: firehose.url,
      credentials: fake.mintCredentials({ expiresInMs: 6 * 3600_000 }),
    }),
    // The fake records every request; a benchmark sends tens of thousands.
    forget: () => {
      fake.requests.length = 0;
      return fake.counters;
    },
    close: async () => {
      await Promise.all([fake.close(), firehose.close()]);
    },
  });
}

/** The gateway's log lines arrive on console.log; only its errors are worth showing during a benchmark. */
const quietConsole = {
  log: (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (line.includes('"level":"error"')) process.stderr.write(`[vercel] ${line}\n`);
  },
  info: () => {},
  debug: () => {},
  warn: () => {},
  error: (...args: unknown[]) => process.stderr.write(`[vercel] ${args.map(String).join(' ')}\n`),
};

async function startBareEdge(upstream: string, firehose: string): Promise<{ url: string; close(): Promise<void> }> {
  // Served exactly as dev-server.mjs serves the functions: edge-runtime's createHandler in node:http.
  const runtime = new EdgeRuntime({
    initialCode: `
addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const base = url.searchParams.has('firehose') ? FIREHOSE : UPSTREAM;
  const upstream = fetch(base + url.pathname, { method: request.method, headers: request.headers, body: request.body, duplex: 'half' });
  event.respondWith(url.searchParams.has('js') ? upstream.then((r) => jsStream(r, url.searchParams.get('js') === 'frames')) : upstream);
});
${JS_STREAM}`,
    extend: (context) => Object.assign(context, { UPSTREAM: upstream, FIREHOSE: firehose }),
  });
  const { handler } = createHandler({ runtime });
  const server = http.createServer((req, res) => {
    handler(req, res).catch((error: unknown) => res.destroy(error instanceof Error ? error : new Error(String(error))));
  });
  const { url, close } = await listenOnLoopback(server);
  return { url, close };
}

export async function runEdge(): Promise<void> {
  const closers: Array<() => Promise<void>> = [];
  let sampler: { timer: ReturnType<typeof setInterval>; rss: number; heap: number } | undefined;
  // Live heap: a GC before each reading, so garbage does not count, only what is held on to.
  const sample = () => {
    if (!sampler) return;
    globalThis.gc?.();
    const m = process.memoryUsage();
    sampler.rss = Math.max(sampler.rss, m.rss);
    sampler.heap = Math.max(sampler.heap, m.heapUsed);
  };
  serve({
    start: async (payload): Promise<EdgeReady> => {
      const config = payload as EdgeConfig;
      const devServer = path.join(config.root, 'scripts/vercel/dev-server.mjs');
      const { startVercelDevServer } = (await import(pathToFileURL(devServer).href)) as { startVercelDevServer: typeof StartVercelDevServer };
      const vercel = await startVercelDevServer({ env: config.fakeEnv, port: 0, root: config.root, console: quietConsole });
      closers.push(() => vercel.close());
      const vercelFirehose = await startVercelDevServer({ env: config.firehoseEnv, port: 0, root: config.root, console: quietConsole });
      closers.push(() => vercelFirehose.close());
      const bare = await startBareEdge(config.upstream, config.firehose);
      closers.push(() => bare.close());
      return { vercelUrl: vercel.url, vercelFirehoseUrl: vercelFirehose.url, bareUrl: bare.url };
    },
    // Memory of this process while the parent streams through it: a GC first, then peaks sampled every 100 ms.
    'memory-start': () => {
      globalThis.gc?.();
      globalThis.gc?.();
      const m = process.memoryUsage();
      sampler = { timer: setInterval(sample, 100), rss: m.rss, heap: m.heapUsed };
      return { rss: m.rss, heap: m.heapUsed };
    },
    'memory-stop': () => {
      sample();
      const peaks = sampler ? { rss: sampler.rss, heap: sampler.heap } : undefined;
      if (sampler) clearInterval(sampler.timer);
      sampler = undefined;
      globalThis.gc?.();
      const m = process.memoryUsage();
      return { peaks, after: { rss: m.rss, heap: m.heapUsed } };
    },
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  });
}
