import type { Store } from '../store/store.ts';
import { systemClock, type Clock } from '../clock.ts';

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

/** Today's counters of an account: a counter record of its own, never part of the state record. */
export const usageKey = (id: string, day: string) => `qwen:usage:${id}:${day}`;

/**
 * The ledger over a Store. State and counts are separate records: the state record is written
 * whole (cooldowns and needs-relogin are idempotent), and counts are atomic increments of a counter
 * record (Store.incrementFields), so a usage flush can never write back a state it read earlier.
 */
export class StoreAccountLedger implements AccountLedger {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {}

  async snapshot(ids: string[]): Promise<Record<string, AccountRecord>> {
    const day = quotaDay(this.clock.now());
    const entries = await Promise.all(
      ids.map(async (id) => {
        const [state, counts] = await Promise.all([this.#read(id), this.store.getFields(usageKey(id, day))]);
        if (!state && Object.keys(counts).length === 0) return [id, undefined] as const;
        const record: AccountRecord = {
          ...stateOnly(state ?? { state: 'ok' }),
          day,
          requestsToday: counts.requests ?? 0,
          tokensToday: counts.tokens ?? 0,
        };
        return [id, record] as const;
      }),
    );
    return Object.fromEntries(entries.filter(([, record]) => record !== undefined)) as Record<string, AccountRecord>;
  }

  async setState(id: string, update: Pick<AccountRecord, 'state' | 'cooldownUntil' | 'reason' | 'lineage'>): Promise<void> {
    // Kept a little past the quota day so a stale state does not linger forever.
    await this.store.set(accountKey(id), JSON.stringify(stateOnly(update)), { ttlMs: 3 * DAY_MS });
  }

  async addUsage(id: string, delta: UsageDelta, day: string): Promise<void> {
    await this.store.incrementFields(usageKey(id, day), { requests: delta.requests, tokens: delta.tokens }, { ttlMs: 3 * DAY_MS });
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
}

/** A state record written before counts moved out may still carry counts; they are not today's truth. */
function stateOnly(record: AccountRecord): AccountRecord {
  const { state, cooldownUntil, reason, lineage } = record;
  return {
    state,
    ...(cooldownUntil === undefined ? {} : { cooldownUntil }),
    ...(reason === undefined ? {} : { reason }),
    ...(lineage === undefined ? {} : { lineage }),
  };
}
