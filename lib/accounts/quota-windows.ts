import type { Store } from '../store/store.ts';

/**
 * Each API key's requests per plan window, counted by the gateway itself: the plans meter requests,
 * and the only upstream view of them (the console's `queryCodingPlanInstanceInfoV2`) needs a browser
 * login (clients-and-qwen §5). The status page shows these counts against the plan's allowance.
 *
 * Windows (Coding Plan FAQ, help.aliyun.com `/en/model-studio/coding-plan-faq`):
 * - `5h`: opens with the first request after the previous one closed and lasts 5 hours [inferred:
 *   the FAQ says "5-hour window" without saying where it starts];
 * - `week`: Monday 00:00 UTC+8 to the next Monday 00:00 UTC+8 (the FAQ's stated weekly reset);
 * - `month`: the calendar month in UTC+8 [inferred: the plan meters per billing month, which
 *   starts on the subscription day the gateway cannot know].
 *
 * Counts are atomic increments on the store (Store.incrementFields), one counter record per window
 * instance: `qwen:quota:<id>:week:<start>`, `...:month:<start>`, and for the 5-hour window, whose
 * start is not on a grid, `...:5h:<start>` under a start agreed with one SET NX (`qwen:quota:<id>:5h`,
 * which expires when the window closes). So instances flushing at the same moment never lose a count.
 */
export type QuotaWindowName = '5h' | 'week' | 'month';
export const QUOTA_WINDOWS: readonly QuotaWindowName[] = ['5h', 'week', 'month'];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const UTC8_MS = 8 * HOUR_MS; // Asia/Shanghai, no daylight saving time.
export const FIVE_HOURS_MS = 5 * HOUR_MS;

/** Monday 00:00 UTC+8 of the week after `now`'s (the Coding Plan's weekly reset). */
export function nextWeeklyReset(now: number): number {
  const local = now + UTC8_MS;
  const dayStart = Math.floor(local / DAY_MS) * DAY_MS;
  const weekday = (new Date(dayStart).getUTCDay() + 6) % 7; // Monday = 0
  return dayStart - weekday * DAY_MS + 7 * DAY_MS - UTC8_MS;
}

/** The first day of the next month, 00:00 UTC+8. */
export function nextMonthlyReset(now: number): number {
  const local = new Date(now + UTC8_MS);
  return Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 1) - UTC8_MS;
}

function weekStart(now: number): number {
  return nextWeeklyReset(now) - 7 * DAY_MS;
}

function monthStart(now: number): number {
  const local = new Date(now + UTC8_MS);
  return Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), 1) - UTC8_MS;
}

/**
 * Known allowances in requests, per plan and tier: Coding Plan Lite and Pro (robinebers/openusage
 * #260, 2026-03-03, intl; the same caps in China per Qwen Code's `auth.md` @35b2e88). Other plans
 * meter tokens or publish nothing, so their counts are shown without an allowance.
 */
export const PLAN_ALLOWANCES: Record<string, Record<string, Record<QuotaWindowName, number>>> = {
  'coding-plan': {
    lite: { '5h': 1_200, week: 9_000, month: 18_000 },
    pro: { '5h': 6_000, week: 45_000, month: 90_000 },
  },
};

export interface WindowUsage {
  window: QuotaWindowName;
  requests: number;
  /** The plan's allowance for the window; null when unknown (no tier configured, or not published). */
  allowance: number | null;
  /** When the window rolls over (ISO); for an unopened 5-hour window, 5 hours from now. */
  resetsAt: string;
}

const startKey = (id: string) => `qwen:quota:${id}:5h`;
const countKey = (id: string, window: QuotaWindowName, start: number) => `qwen:quota:${id}:${window}:${start}`;
/** How long a window's counter outlives the window (a status read just after it closed still finds it). */
const SLACK_MS = DAY_MS;


/** Where the window counts live: a Store here; on Cloudflare the accounts Durable Object (never KV). */
export interface QuotaCounter {
  add(id: string, requests: number, now: number): Promise<void>;
  usage(id: string, now: number, allowances?: Record<QuotaWindowName, number>): Promise<WindowUsage[]>;
}

export class QuotaWindows implements QuotaCounter {
  constructor(private readonly store: Store) {}

  /** Adds `requests` to every window of `id` at `now`, opening a 5-hour window if none is open. */
  async add(id: string, requests: number, now: number): Promise<void> {
    const fiveHours = (await this.#openFiveHours(id, now)) ?? now;
    await Promise.all(
      QUOTA_WINDOWS.map((window) => {
        const start = window === '5h' ? fiveHours : windowStart(window, now);
        const ttlMs = windowEnd(window, start) - now + SLACK_MS;
        return this.store.incrementFields(countKey(id, window, start), { requests }, { ttlMs });
      }),
    );
  }

  async usage(id: string, now: number, allowances?: Record<QuotaWindowName, number>): Promise<WindowUsage[]> {
    const open = await this.#fiveHoursStart(id, now);
    return Promise.all(
      QUOTA_WINDOWS.map(async (window) => {
        const start = window === '5h' ? open : windowStart(window, now);
        const requests = start === undefined ? 0 : ((await this.store.getFields(countKey(id, window, start))).requests ?? 0);
        return {
          window,
          requests,
          allowance: allowances?.[window] ?? null,
          resetsAt: new Date(windowEnd(window, start ?? now)).toISOString(),
        };
      }),
    );
  }

  /** The open 5-hour window's start, opening one at `now` when none is (one writer wins the SET NX). */
  async #openFiveHours(id: string, now: number): Promise<number | undefined> {
    // Twice: the window that made the SET NX fail may close before it is read.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.store.setIfAbsent(startKey(id), String(now), { ttlMs: FIVE_HOURS_MS })) return now;
      const open = await this.#fiveHoursStart(id, now);
      if (open !== undefined) return open;
    }
    return undefined;
  }

  async #fiveHoursStart(id: string, now: number): Promise<number | undefined> {
    const start = Number(await this.store.get(startKey(id)));
    // The store may keep the key a little past its TTL (KV rounds up): the window's own end decides.
    return Number.isFinite(start) && start > 0 && now < start + FIVE_HOURS_MS ? start : undefined;
  }
}

/** Where a window opened at `now` starts: now for the 5-hour window, the grid for week and month. */
function windowStart(window: QuotaWindowName, now: number): number {
  if (window === '5h') return now;
  return window === 'week' ? weekStart(now) : monthStart(now);
}

export function windowEnd(window: QuotaWindowName, start: number): number {
  if (window === '5h') return start + FIVE_HOURS_MS;
  return window === 'week' ? nextWeeklyReset(start) : nextMonthlyReset(start);
}
