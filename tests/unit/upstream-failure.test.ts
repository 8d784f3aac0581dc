import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { classifyUpstreamFailure, DEFAULT_THROTTLE_MS, isAuthError, isQuotaError, statedReset } from '../../lib/qwen/upstream-failure.ts';
import { parseUpstreamError, upstreamGatewayError } from '../../lib/qwen/upstream-error.ts';
import { nextMonthlyReset, nextWeeklyReset } from '../../lib/accounts/quota-windows.ts';

/** A recorded error body (tests/fixtures/qwen-errors), as the gateway would read it off the wire. */
function recorded(name: string) {
  const { status, body } = JSON.parse(readFileSync(new URL(`../fixtures/qwen-errors/${name}.json`, import.meta.url), 'utf8'));
  return parseUpstreamError(status, JSON.stringify(body));
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
// The fake clock: Wednesday 2026-07-22 10:00 UTC (18:00 in UTC+8).
const NOW = Date.UTC(2026, 6, 22, 10, 0, 0);

describe('hard quotas: each rests the key until its stated reset or its window rolls over', () => {
  test('Coding Plan 5-hour window: at most 5 hours from now', () => {
    const failure = classifyUpstreamFailure(recorded('coding-plan-hour'), null, NOW);
    expect(failure).toEqual({ kind: 'quota', window: '5h', resetAt: NOW + 5 * 3_600_000 });
  });

  test('Coding Plan week: Monday 00:00 UTC+8 (Sunday 16:00 UTC)', () => {
    const failure = classifyUpstreamFailure(recorded('coding-plan-week'), null, NOW);
    expect(failure.kind).toBe('quota');
    expect(failure.window).toBe('week');
    expect(iso(failure.resetAt)).toBe('2026-07-26T16:00:00.000Z');
  });

  test('Coding Plan month: the 1st, 00:00 UTC+8', () => {
    const failure = classifyUpstreamFailure(recorded('coding-plan-month'), null, NOW);
    expect(failure).toMatchObject({ kind: 'quota', window: 'month' });
    expect(iso(failure.resetAt)).toBe('2026-07-31T16:00:00.000Z');
  });

  test('Token Plan: the reset time it states, this year', () => {
    const failure = classifyUpstreamFailure(recorded('token-plan-week'), null, NOW);
    expect(failure).toMatchObject({ kind: 'quota', window: 'week' });
    expect(iso(failure.resetAt)).toBe('2026-07-27T09:25:00.000Z');
  });

  test('DashScope Throttling.AllocationQuota: Retry-After when given, else 00:00 UTC+8', () => {
    const info = recorded('dashscope-allocation-quota');
    expect(isQuotaError(info)).toBe(true);
    expect(iso(classifyUpstreamFailure(info, null, NOW).resetAt)).toBe('2026-07-22T16:00:00.000Z');
    expect(classifyUpstreamFailure(info, '120', NOW)).toEqual({ kind: 'quota', window: 'day', resetAt: NOW + 120_000 });
  });

  test('the same error in a DashScope stream error frame (status from the :HTTP_STATUS comment)', () => {
    const info = parseUpstreamError(429, '{"request_id":"r","code":"Throttling.AllocationQuota","message":"Allocated quota exceeded, please increase your quota limit."}');
    expect(classifyUpstreamFailure(info, undefined, NOW).kind).toBe('quota');
  });

  test('OAuth insufficient_quota (429 or 403): the next 00:00 Asia/Shanghai', () => {
    const info = recorded('oauth-insufficient-quota');
    expect(classifyUpstreamFailure(info, null, NOW)).toEqual({ kind: 'quota', window: 'day', resetAt: Date.UTC(2026, 6, 22, 16, 0, 0) });
    const forbidden = { ...info, status: 403 };
    expect(classifyUpstreamFailure(forbidden, null, NOW).kind).toBe('quota');
    expect(isAuthError(forbidden)).toBe(false);
  });

  test('quota errors are not auth errors, so no refresh is wasted on them', () => {
    for (const name of ['coding-plan-hour', 'coding-plan-week', 'token-plan-week', 'dashscope-allocation-quota']) {
      expect(isAuthError({ ...recorded(name), status: 403 })).toBe(false);
    }
    expect(isAuthError(parseUpstreamError(401, '{"error":{"message":"invalid access token or token expired"}}'))).toBe(true);
  });
});

describe('plain throttles rest the key for Retry-After', () => {
  test('Retry-After in seconds, as an HTTP date, or the default', () => {
    const info = recorded('dashscope-rate-quota');
    expect(classifyUpstreamFailure(info, '7', NOW)).toEqual({ kind: 'throttle', retryAfterMs: 7_000 });
    expect(classifyUpstreamFailure(info, new Date(NOW + 30_000).toUTCString(), NOW)).toEqual({ kind: 'throttle', retryAfterMs: 30_000 });
    expect(classifyUpstreamFailure(info, null, NOW)).toEqual({ kind: 'throttle', retryAfterMs: DEFAULT_THROTTLE_MS });
    expect(isQuotaError(info)).toBe(false);
  });
});

describe('reset rules (fake clock)', () => {
  test('a stated reset without a year that is already behind us is next year', () => {
    const newYearsEve = Date.UTC(2026, 11, 31, 12, 0, 0);
    expect(iso(statedReset('The quota will reset at 01-02 09:25:00 UTC.', newYearsEve))).toBe('2027-01-02T09:25:00.000Z');
    expect(iso(statedReset('quota will reset at 2026-09-14 00:00:00 +0800', NOW))).toBe('2026-09-13T16:00:00.000Z');
    expect(statedReset('no reset time here', NOW)).toBeUndefined();
  });

  test('the week turns at Monday 00:00 UTC+8, whatever the weekday in UTC', () => {
    // Sunday 23:59 in UTC+8 → one minute later.
    expect(iso(nextWeeklyReset(Date.UTC(2026, 6, 26, 15, 59)))).toBe('2026-07-26T16:00:00.000Z');
    // Monday 00:00 in UTC+8 exactly → a full week later.
    expect(iso(nextWeeklyReset(Date.UTC(2026, 6, 26, 16, 0)))).toBe('2026-08-02T16:00:00.000Z');
    // Sunday 20:00 UTC is already Monday in UTC+8.
    expect(iso(nextWeeklyReset(Date.UTC(2026, 6, 26, 20, 0)))).toBe('2026-08-02T16:00:00.000Z');
  });

  test('the month turns on the 1st, 00:00 UTC+8, across a year end', () => {
    expect(iso(nextMonthlyReset(Date.UTC(2026, 0, 31, 20, 0)))).toBe('2026-02-28T16:00:00.000Z');
    expect(iso(nextMonthlyReset(Date.UTC(2026, 11, 15)))).toBe('2026-12-31T16:00:00.000Z');
  });
});

describe('context overflow', () => {
  test("is OpenAI's context_length_exceeded (400) on the chat surface, with Qwen's limit", () => {
    const error = upstreamGatewayError(recorded('context-overflow'), undefined, NOW);
    expect(error.status).toBe(400);
    expect(error.code).toBe('context_length_exceeded');
    expect(error.type).toBe('invalid_request_error');
    expect(error.failure).toEqual({ kind: 'context_overflow', limit: 258_048 });
    expect(error.message).toContain('258048 tokens');
  });
});
