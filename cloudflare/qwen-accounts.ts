import { DurableObject } from 'cloudflare:workers';
import { systemClock } from '../lib/clock.ts';
import { loadConfig } from '../lib/config.ts';
import { createConsoleLogger } from '../lib/logger.ts';
import { asGatewayError, GatewayError } from '../lib/errors.ts';
import { StoreCredentialAuthority, accessOnly, type AccessCredentials } from '../lib/accounts/credential-authority.ts';
import { cacheAccess } from './access-cache.ts';
import { StoreAccountLedger, type AccountRecord, type UsageDelta } from '../lib/accounts/account-ledger.ts';
import { QuotaWindows, type QuotaWindowName, type WindowUsage } from '../lib/accounts/quota-windows.ts';
import { DurableObjectStore } from '../lib/store/durable-object-store.ts';
import { KvStore } from '../lib/store/kv-store.ts';
import type { AccountSeed } from '../lib/credentials/qwen-credentials.ts';
import type { Env } from './env.ts';

/** An error crossing the RPC boundary: Workers RPC keeps only an Error's message, so send the fields. */
export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: ReturnType<GatewayError['toRpc']> };

/**
 * The single writer of every account's credentials and state on Cloudflare. KV cannot be that: it is
 * eventually consistent (about 60 s between locations) and has no compare-and-set, so two isolates
 * could both spend the same single-use refresh token. This object runs one event at a time; its
 * StoreCredentialAuthority refreshes each account at most once at a time and re-reads its state
 * inside that critical section. Isolates keep the access tokens it hands out in memory and call it
 * only when a token expires or is rejected. Refreshed access tokens (never refresh tokens) are also
 * written to KV, as a read cache that lets a cold isolate start without calling this object.
 */
export class QwenAccounts extends DurableObject<Env> {
  readonly #authority: StoreCredentialAuthority;
  readonly #ledger: StoreAccountLedger;
  readonly #windows: QuotaWindows;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = loadConfig(env);
    const logger = createConsoleLogger(config.logLevel);
    const store = new DurableObjectStore(this.ctx.storage, systemClock);
    const kv = env.QWEN_KV ? new KvStore(env.QWEN_KV) : undefined;
    this.#authority = new StoreCredentialAuthority({
      store,
      fetch: (input, init) => fetch(input, init),
      clock: systemClock,
      logger,
      oauthBaseUrl: config.oauthBaseUrl,
      // The object owns every refresh: one that outlives the RPC call that started it runs on here.
      keepAlive: (work) => this.ctx.waitUntil(work),
      onStored: kv ? (accountId, record) => cacheAccess(kv, accountId, record, logger) : undefined,
    });
    this.#ledger = new StoreAccountLedger(store, systemClock);
    // Counters belong here, not in KV (one write per second per key, and stale elsewhere).
    this.#windows = new QuotaWindows(store);
  }

  // Isolates get access tokens only; refresh tokens never leave this object.
  obtain(seed: AccountSeed, rejected?: string): Promise<RpcResult<AccessCredentials>> {
    return rpc(async () => accessOnly(await this.#authority.obtain(seed, rejected)));
  }

  current(seed: AccountSeed): Promise<RpcResult<AccessCredentials>> {
    return rpc(async () => accessOnly(await this.#authority.current(seed)));
  }

  snapshot(ids: string[]): Promise<Record<string, AccountRecord>> {
    return this.#ledger.snapshot(ids);
  }

  setState(id: string, update: Pick<AccountRecord, 'state' | 'cooldownUntil' | 'reason' | 'lineage'>): Promise<void> {
    return this.#ledger.setState(id, update);
  }

  addUsage(id: string, delta: UsageDelta, day: string): Promise<void> {
    return this.#ledger.addUsage(id, delta, day);
  }

  addWindowRequests(id: string, requests: number, now: number): Promise<void> {
    return this.#windows.add(id, requests, now);
  }

  windowUsage(id: string, now: number, allowances?: Record<QuotaWindowName, number>): Promise<WindowUsage[]> {
    return this.#windows.usage(id, now, allowances);
  }
}

async function rpc<T>(run: () => Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error: asGatewayError(error).toRpc() };
  }
}
