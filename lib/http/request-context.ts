/**
 * Per-request facts for the one log line each request gets. Handlers add what they learn (account,
 * model, upstream latency, usage); a streaming handler sets `completion` so the line is written when
 * the stream ends, with the stream's usage, instead of when the headers leave.
 */
export interface RequestContext {
  id: string;
  startedAt: number;
  fields: Record<string, unknown>;
  completion?: Promise<void>;
  /** Milliseconds spent per phase, reported in the Server-Timing header (auth, token, qwen). */
  timings: Record<string, number>;
}

/** Runs `work` and adds its duration to the named phase of the request's Server-Timing. */
export async function timed<T>(ctx: RequestContext, phase: string, now: () => number, work: () => Promise<T>): Promise<T> {
  const start = now();
  try {
    return await work();
  } finally {
    ctx.timings[phase] = (ctx.timings[phase] ?? 0) + (now() - start);
  }
}

/**
 * The standard Server-Timing header (which browsers' dev tools show): the gateway's own phases, the
 * wait for Qwen's first byte, and `gateway` = everything else the gateway spent before answering.
 */
export function serverTiming(ctx: RequestContext, now: number): string {
  const total = now - ctx.startedAt;
  return [...Object.entries(ctx.timings), ['gateway', Math.max(0, total - (ctx.timings.qwen ?? 0))] as const]
    .map(([name, ms]) => `${name};dur=${Math.round(ms * 10) / 10}`)
    .join(', ');
}
