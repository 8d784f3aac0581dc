import type { Store } from '../store/store.ts';

/**
 * What every instance must agree on about each account: whether it can serve, until when it cools
 * down, and today's counts for the status page. It lives where instances agree (a Durable Object on
 * Cloudflare, Upstash on Vercel, memory in a single process); never in KV, which is stale for up
 * to 60 s in other locations and takes one write per second per key.
 */
export type AccountState = 'ok' | 'cooling_down' | 'needs_relogin';

export interface AccountRecord {
  state: AccountState;
  /** Epoch ms; set while cooling down. */
  cooldownUntil?: number;
  /** Why the account is not ok, for the status page (never a token). */
  reason?: string;
  /** The refresh-token lineage that needs a new login; a new deployment clears the state. */
  lineage?: string;
  /** The quota day (Asia/Shanghai) the counters belong to, as YYYY-MM-DD. */
  day?: string;
  requestsToday?: number;
  tokensToday?: number;
}

export interface UsageDelta {
  requests: number;
  tokens: number;
}

export interface AccountLedger {
  /** The shared record of every account that has one. */
  snapshot(ids: string[]): Promise<Record<string, AccountRecord>>;
  /** Sets (or clears, with state 'ok') an account's state. */
  setState(id: string, update: Pick<AccountRecord, 'state' | 'cooldownUntil' | 'reason' | 'lineage'>): Promise<void>;
  addUsage(id: string, delta: UsageDelta, day: string): Promise<void>;
}

export const accountKey = (id: string) => `qwen:account:${id}`;

const SHANGHAI_OFFSET_MS = 8 * 3600_000; // UTC+8 all year: China has no daylight saving time.
const DAY_MS = 24 * 3600_000;

/** Qwen's daily quota resets at 00:00 Asia/Shanghai (protocol §5). */
export function nextQuotaReset(now: number): number {
  return Math.floor((now + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS + DAY_MS - SHANGHAI_OFFSET_MS;
}

export function quotaDay(now: number): string {
  return new Date(now + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/**
 * The ledger over a Store. Its read-modify-write of the counters can lose an increment when two
 * instances write the same account at the same moment; the counts are for the status page, and
 * the states that matter (cooldowns, needs-relogin) are idempotent writes.
 */
export class StoreAccountLedger implements AccountLedger {
  constructor(private readonly store: Store) {}

  async snapshot(ids: string[]): Promise<Record<string, AccountRecord>> {
    const entries = await Promise.all(ids.map(async (id) => [id, await this.#read(id)] as const));
    return Object.fromEntries(entries.filter(([, record]) => record !== undefined)) as Record<string, AccountRecord>;
  }

  async setState(id: string, update: Pick<AccountRecord, 'state' | 'cooldownUntil' | 'reason' | 'lineage'>): Promise<void> {
    const { cooldownUntil: _c, reason: _r, lineage: _l, ...rest } = (await this.#read(id)) ?? { state: 'ok' };
    await this.#write(id, { ...rest, ...update });
  }

  async addUsage(id: string, delta: UsageDelta, day: string): Promise<void> {
    const record = (await this.#read(id)) ?? { state: 'ok' };
    const sameDay = record.day === day;
    await this.#write(id, {
      ...record,
      day,
      requestsToday: (sameDay ? record.requestsToday ?? 0 : 0) + delta.requests,
      tokensToday: (sameDay ? record.tokensToday ?? 0 : 0) + delta.tokens,
    });
  }

  async #read(id: string): Promise<AccountRecord | undefined> {
    const raw = await this.store.get(accountKey(id));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as AccountRecord;
    } catch {
      return undefined;
    }
  }

  async #write(id: string, record: AccountRecord): Promise<void> {
    // Kept a little past the quota day so yesterday's counts do not linger forever.
    await this.store.set(accountKey(id), JSON.stringify(record), { ttlMs: 3 * DAY_MS });
  }
}
