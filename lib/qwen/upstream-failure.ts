import type { UpstreamFailure } from '../errors.ts';
import type { UpstreamErrorInfo } from './upstream-error.ts';
import { nextQuotaReset } from '../accounts/account-ledger.ts';
import { FIVE_HOURS_MS, nextMonthlyReset, nextWeeklyReset } from '../accounts/quota-windows.ts';

/** A 429 without Retry-After rests the account this long (Qwen's limits are per minute). */
export const DEFAULT_THROTTLE_MS = 10_000;

/**
 * What a Qwen error means for the gateway, decided once from its status, code and wording
 * (protocol §5, clients-and-qwen §1.3–1.4): whether the account is spent (quota: it rests until the
 * reset Qwen stated, or until its window rolls over) or throttled (it rests for Retry-After), whether
 * the prompt is too long (the client must compact), or whether Qwen is overloaded. Either way the
 * request moves to another account at once. `now` dates the computed resets.
 * Auth errors are not classified here: the caller refreshes past them first.
 */
export function classifyUpstreamFailure(info: UpstreamErrorInfo, retryAfter: string | null | undefined, now: number): UpstreamFailure {
  const quota = quotaFailure(info, retryAfterMs(retryAfter, now), now);
  if (quota) return quota;
  const text = `${info.code ?? ''} ${info.message}`;
  const overflow = CONTEXT_OVERFLOW.exec(text);
  if (overflow && info.status === 400) return { kind: 'context_overflow', limit: Number(overflow[1]) };
  if (info.status === 429) return { kind: 'throttle', retryAfterMs: retryAfterMs(retryAfter, now) ?? DEFAULT_THROTTLE_MS };
  if (info.status === 503 || info.status === 529 || OVERLOADED.test(text)) return { kind: 'overloaded' };
  return { kind: 'other' };
}

/** Qwen's context overflow: "Range of input length should be [1, 98304]" (a 400, not finish_reason "length"). */
const CONTEXT_OVERFLOW = /Range of input length should be \[1,\s*(\d+)\]/i;
const OVERLOADED = /ModelUnavailable|overloaded|ServiceUnavailable/i;

/**
 * The hard quotas, each with its reset:
 * - Coding Plan: "hour allocated quota exceeded" (the 5-hour window), "week allocated quota
 *   exceeded" (resets Monday 00:00 UTC+8), "month allocated quota exceeded" (Coding Plan FAQ);
 * - Token Plan: "Your token-plan 1-week quota has been exhausted. The quota will reset at 07-27
 *   09:25:00 UTC." (qwen-code `retry.test.ts`): the stated time;
 * - DashScope: `Throttling.AllocationQuota` "Allocated quota exceeded" (what qwen-code fast-fails):
 *   Retry-After when given, else the next 00:00 UTC+8 [inferred: DashScope states no reset];
 * - Qwen OAuth: `insufficient_quota` / "Free allocated quota exceeded": the next 00:00 UTC+8.
 */
function quotaFailure(info: UpstreamErrorInfo, retryAfter: number | undefined, now: number): UpstreamFailure | undefined {
  if (info.status < 400) return undefined;
  const text = `${info.code ?? ''} ${info.type ?? ''} ${info.message}`.toLowerCase();
  const stated = statedReset(text, now);
  const window = /\b(?:5-hour|5h|hour)\b/.test(text)
    ? '5h'
    : /\b(?:1-week|week|weekly)\b/.test(text)
      ? 'week'
      : /\b(?:month|monthly)\b/.test(text)
        ? 'month'
        : 'day';
  const planQuota = /(?:hour|week|month) allocated quota exceeded|quota has been exhausted/.test(text);
  if (stated !== undefined || planQuota) {
    return { kind: 'quota', window, resetAt: stated ?? windowRollover(window, now) };
  }
  const dayQuota =
    ((info.status === 429 || info.status === 403) && /insufficient_quota|quota_exceeded|free allocated quota exceeded/.test(text)) ||
    /throttling\.allocationquota|allocated quota exceeded/.test(text);
  if (dayQuota) return { kind: 'quota', window: 'day', resetAt: retryAfter !== undefined ? now + retryAfter : nextQuotaReset(now) };
  return undefined;
}

function windowRollover(window: NonNullable<UpstreamFailure['window']>, now: number): number {
  if (window === '5h') return now + FIVE_HOURS_MS; // the latest it can be: the window may have opened earlier
  if (window === 'week') return nextWeeklyReset(now);
  if (window === 'month') return nextMonthlyReset(now);
  return nextQuotaReset(now);
}

/**
 * "quota will reset at 07-27 09:25:00 UTC" (no year: the next such date), or with a year, or with
 * an offset ("+0800"). Lower-cased text in.
 */
const RESET_AT = /reset at (?:(\d{4})-)?(\d{1,2})-(\d{1,2})[ t](\d{1,2}):(\d{2})(?::(\d{2}))?\s*(utc|gmt|z|[+-]\d{2}:?\d{2})?/;

export function statedReset(text: string, now: number): number | undefined {
  const m = RESET_AT.exec(text.toLowerCase());
  if (!m) return undefined;
  const [, year, month, day, hour, minute, second, zone] = m;
  const offsetMs = zone && /^[+-]/.test(zone) ? (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2))) * 60_000 : 0;
  const at = (y: number) => Date.UTC(y, Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second ?? 0)) - offsetMs;
  if (year) return at(Number(year));
  const thisYear = new Date(now).getUTCFullYear();
  // A date more than a day behind is next year's (a reset stated on 12-31 for 01-02).
  const candidate = at(thisYear);
  return candidate < now - 24 * 3_600_000 ? at(thisYear + 1) : candidate;
}

/** Retry-After in seconds or as an HTTP date, in ms from now; undefined when absent or unusable. */
function retryAfterMs(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds > 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isFinite(date) && date > now ? date - now : undefined;
}

/** Any hard quota error (see quotaFailure): the account is spent, not its credentials. */
export function isQuotaError(info: UpstreamErrorInfo): boolean {
  return quotaFailure(info, undefined, 0) !== undefined;
}

/** A 401/403 that a refresh can fix (anything auth-like that is not the quota error). */
export function isAuthError(info: UpstreamErrorInfo): boolean {
  return (info.status === 401 || info.status === 403) && !isQuotaError(info);
}
