import { GatewayError } from '../lib/errors.ts';
import type { AccessCredentials, CredentialAuthority } from '../lib/accounts/credential-authority.ts';
import { isFresh } from '../lib/accounts/credential-authority.ts';
import { accessCacheKey, type CachedAccess } from './access-cache.ts';
import type { AccountLedger, AccountRecord, UsageDelta } from '../lib/accounts/account-ledger.ts';
import type { AccountSeed } from '../lib/credentials/qwen-credentials.ts';
import type { Clock } from '../lib/clock.ts';
import type { QuotaCounter, QuotaWindowName, WindowUsage } from '../lib/accounts/quota-windows.ts';
import type { Store } from '../lib/store/store.ts';
import type { QwenAccounts, RpcResult } from './qwen-accounts.ts';

type AccountsStub = Pick<QwenAccounts, 'obtain' | 'current' | 'snapshot' | 'setState' | 'addUsage' | 'addWindowRequests' | 'windowUsage'>;

/** The slice of the QWEN_ACCOUNTS binding used here (tests pass a fake). */
export type AccountsNamespace = { idFromName(name: string): DurableObjectId; get(id: DurableObjectId): AccountsStub };

/**
 * The isolate's side of the QwenAccounts Durable Object: credentials and account state come from
 * the object, the one place that may refresh and the only one that holds refresh tokens. KV is
 * consulted first for the access token, as a read cache the object keeps warm, so that a cold isolate usually needs no call to the object at all.
 * KV can be up to a minute stale, which is harmless here: an access token stays valid until it
 * expires, and a token Qwen rejects goes to the object, which knows the current one.
 */
export class DurableObjectAccounts implements CredentialAuthority, AccountLedger, QuotaCounter {
  constructor(
    private readonly namespace: AccountsNamespace,
    private readonly cache: Store,
    private readonly clock: Clock,
  ) {}

  /**
   * One object for the deployment: refreshes are rare, and one writer keeps account state simple.
   * A stub belongs to the request that created it (workerd refuses I/O through it from another
   * request), so each call makes its own; that costs no network round trip.
   */
  get #stub(): AccountsStub {
    return this.namespace.get(this.namespace.idFromName('accounts'));
  }

  async obtain(seed: AccountSeed, rejected?: string): Promise<AccessCredentials> {
    if (rejected === undefined) {
      const cached = await this.#cached(seed);
      if (cached && isFresh(cached, this.clock.now())) return cached;
    }
    return unwrap(await this.#stub.obtain(seed, rejected));
  }

  async current(seed: AccountSeed): Promise<AccessCredentials> {
    return unwrap(await this.#stub.current(seed));
  }

  snapshot(ids: string[]): Promise<Record<string, AccountRecord>> {
    return this.#stub.snapshot(ids);
  }

  setState(id: string, update: Pick<AccountRecord, 'state' | 'cooldownUntil' | 'reason' | 'lineage'>): Promise<void> {
    return this.#stub.setState(id, update);
  }

  addUsage(id: string, delta: UsageDelta, day: string): Promise<void> {
    return this.#stub.addUsage(id, delta, day);
  }

  add(id: string, requests: number, now: number): Promise<void> {
    return this.#stub.addWindowRequests(id, requests, now);
  }

  usage(id: string, now: number, allowances?: Record<QuotaWindowName, number>): Promise<WindowUsage[]> {
    return this.#stub.windowUsage(id, now, allowances);
  }

  async #cached(seed: AccountSeed): Promise<AccessCredentials | undefined> {
    // A cache miss only costs a call to the object, so a failing KV read is not worth failing for.
    const raw = await this.cache.get(accessCacheKey(seed.id)).catch(() => null);
    if (!raw) return undefined;
    try {
      const cached = JSON.parse(raw) as CachedAccess;
      return cached.lineage === seed.lineage ? cached.credentials : undefined;
    } catch {
      return undefined;
    }
  }
}

function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  throw GatewayError.fromRpc(result.error);
}
