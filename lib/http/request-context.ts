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
}
