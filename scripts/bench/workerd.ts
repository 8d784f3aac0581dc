/**
 * The Cloudflare targets: the built Worker and a bare pass-through worker, each in its own workerd
 * process behind Miniflare's HTTP server (as tests/e2e/targets.ts runs the Worker; not `wrangler
 * dev`, whose proxy adds a hop of its own).
 */
import { Miniflare } from 'miniflare';
import { childPids } from './proc.ts';

export interface ServerTarget {
  url: string;
  /** The process that serves it (workerd here), for /proc measurements; undefined where unknown. */
  pid: number | undefined;
  close(): Promise<void>;
}

const COMPATIBILITY_DATE = '2026-04-20';

/**
 * Shared by both runtimes' floors: relays a response's body through a pull-based JS stream, one
 * enqueue per upstream read, or (perFrame) one enqueue per SSE frame, as the gateway's relay
 * does: that isolates what enqueuing frame by frame costs the runtime.
 */
export const JS_STREAM = `
function jsStream(upstream, perFrame) {
  const reader = upstream.body.getReader();
  let carry = new Uint8Array(0);
  const body = new ReadableStream({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          if (carry.length > 0) controller.enqueue(carry);
          controller.close();
          return;
        }
        if (!perFrame) {
          controller.enqueue(value);
          return;
        }
        const bytes = new Uint8Array(carry.length + value.length);
        bytes.set(carry);
        bytes.set(value, carry.length);
        let start = 0;
        for (let at = bytes.indexOf(10); at >= 0 && at + 1 < bytes.length; at = bytes.indexOf(10, at + 1)) {
          if (bytes[at + 1] !== 10) continue;
          controller.enqueue(bytes.subarray(start, at + 2));
          start = at + 2;
          at++;
        }
        carry = bytes.slice(start);
        if (start > 0) return;
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  return new Response(body, { status: upstream.status, headers: upstream.headers });
}
`;

/**
 * The floor for this runtime: forwards the request as it came, to env.UPSTREAM (or env.FIREHOSE
 * when the URL has ?firehose), and returns the upstream's response untouched, so the runtime pipes
 * the body natively. With ?js the body goes through a JavaScript ReadableStream that passes every
 * read on unchanged: the least any gateway that looks at the stream costs in this runtime
 * (?js=frames: the same, one enqueue per SSE frame; ?js=double: two such streams, one reading the
 * other, as the gateway's relay reads peekStreamStart's replay).
 */
export const BARE_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const base = url.searchParams.has('firehose') ? env.FIREHOSE : env.UPSTREAM;
    const upstream = fetch(base + url.pathname, { method: request.method, headers: request.headers, body: request.body });
    const js = url.searchParams.get('js');
    if (!js) return upstream;
    if (js === 'double') return jsStream(jsStream(await upstream, false), false);
    return jsStream(await upstream, js === 'frames');
  },
};
${JS_STREAM}
`;

async function started(mf: Miniflare, before: Set<number>): Promise<ServerTarget> {
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const pid = childPids('workerd').find((p) => !before.has(p));
  return { url, pid, close: () => mf.dispose() };
}

/** The gateway as `wrangler deploy` bundles it, with KV and the QwenAccounts Durable Object. */
export async function startWorker(scriptPath: string, env: Record<string, string>): Promise<ServerTarget> {
  const before = new Set(childPids('workerd'));
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    kvNamespaces: ['QWEN_KV'],
    durableObjects: { QWEN_ACCOUNTS: { className: 'QwenAccounts', useSQLite: true } },
    bindings: env,
    host: '127.0.0.1',
    port: 0,
    cf: false,
  });
  return started(mf, before);
}

export async function startBareWorker(upstream: string, firehose: string): Promise<ServerTarget> {
  const before = new Set(childPids('workerd'));
  const mf = new Miniflare({
    modules: true,
    script: BARE_WORKER,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: { UPSTREAM: upstream, FIREHOSE: firehose },
    host: '127.0.0.1',
    port: 0,
    cf: false,
  });
  return started(mf, before);
}
