/**
 * The load generator: plain node:http with keep-alive agents, so a fresh machine needs nothing
 * beyond `npm install`. Times are taken with process.hrtime from just before the request is
 * written: time to first byte is the first body byte, total is the end of the body.
 */
import http from 'node:http';

export interface Call {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Timing {
  ttfbMs: number;
  totalMs: number;
  bytes: number;
}

/** One keep-alive connection pool per target (maxSockets = the concurrency it is used at). */
export function keepAliveAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/**
 * One POST; resolves when the body has ended. Rejects on a non-200 status, on a stream without
 * `[DONE]` when `expect` is given, or on a network error.
 */
export function timedCall(agent: http.Agent, call: Call, expect?: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - start) / 1e6;
    const req = http.request(
      call.url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(call.body), ...call.headers } },
      (res) => {
        let ttfb = -1;
        let bytes = 0;
        let tail = '';
        res.on('data', (part: Buffer) => {
          if (ttfb < 0) ttfb = ms();
          bytes += part.byteLength;
          // Only the end is kept (a 100 MB answer must not be buffered by the client either).
          tail = (tail + part.toString('latin1')).slice(-64);
        });
        res.on('end', () => {
          const total = ms();
          if (res.statusCode !== 200) return reject(new Error(`${call.url}: HTTP ${res.statusCode} ${tail}`));
          if (expect && !tail.includes(expect)) return reject(new Error(`${call.url}: the answer did not end with ${expect}: …${tail}`));
          resolve({ ttfbMs: ttfb < 0 ? total : ttfb, totalMs: total, bytes });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(call.body);
  });
}

/**
 * Closed-loop load: `concurrency` clients, each sending its next request when the previous one has
 * ended, for `durationMs`. Returns completed requests per second.
 */
export async function closedLoop(call: Call, concurrency: number, durationMs: number, expect?: string): Promise<{ rps: number; errors: number; count: number }> {
  const agent = keepAliveAgent(concurrency);
  let count = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      try {
        await timedCall(agent, call, expect);
        count++;
      } catch {
        errors++;
        if (errors > 50) throw new Error(`${call.url}: too many errors under load`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { rps: count / seconds, errors, count };
}
