import type { UpstreamFailure } from '../errors.ts';
import type { UpstreamErrorInfo } from './upstream-error.ts';

/** A 429 without Retry-After rests the account this long (Qwen's limits are per minute). */
export const DEFAULT_THROTTLE_MS = 10_000;

/**
 * What a Qwen error means for the gateway, decided once from its status, code and wording
 * (protocol §5, clients-and-qwen §1.6): whether the account is spent or throttled (the request moves
 * on), whether the prompt is too long (the client must compact), or whether Qwen is overloaded.
 * Auth errors are not classified here: the caller refreshes past them first.
 */
export function classifyUpstreamFailure(info: UpstreamErrorInfo, retryAfter?: string | null): UpstreamFailure {
  if (isQuotaError(info)) return { kind: 'quota' };
  const text = `${info.code ?? ''} ${info.message}`;
  const overflow = CONTEXT_OVERFLOW.exec(text);
  if (overflow && info.status === 400) return { kind: 'context_overflow', limit: Number(overflow[1]) };
  if (info.status === 429) {
    const seconds = Number(retryAfter);
    return { kind: 'throttle', retryAfterMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_THROTTLE_MS };
  }
  if (info.status === 503 || info.status === 529 || OVERLOADED.test(text)) return { kind: 'overloaded' };
  return { kind: 'other' };
}

/** Qwen's context overflow: "Range of input length should be [1, 98304]" (a 400, not finish_reason "length"). */
const CONTEXT_OVERFLOW = /Range of input length should be \[1,\s*(\d+)\]/i;
const OVERLOADED = /ModelUnavailable|overloaded|ServiceUnavailable/i;

/** Qwen's quota error: 429 or 403 carrying insufficient_quota / "Free allocated quota exceeded" (protocol §5). */
export function isQuotaError(info: UpstreamErrorInfo): boolean {
  if (info.status !== 429 && info.status !== 403) return false;
  const text = `${info.code ?? ''} ${info.type ?? ''} ${info.message}`.toLowerCase();
  return text.includes('insufficient_quota') || text.includes('quota_exceeded') || text.includes('free allocated quota exceeded');
}

/** A 401/403 that a refresh can fix (anything auth-like that is not the quota error). */
export function isAuthError(info: UpstreamErrorInfo): boolean {
  return (info.status === 401 || info.status === 403) && !isQuotaError(info);
}

