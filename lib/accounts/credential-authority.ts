import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { AccountSeed, QwenCredentials } from '../credentials/qwen-credentials.ts';
import { RefreshRefusedError, refreshAccessToken, type RefreshOptions } from '../qwen/refresh-access-token.ts';
import { TOKEN_REFRESH_BUFFER_MS } from '../qwen/constants.ts';

/**
 * Decides which credentials of an account are current and refreshes them. It is the only code that
 * spends a refresh token, and Qwen's refresh tokens are single-use: two refreshes of the same token
 * kill the account. So a refresh happens at most once at a time (per isolate here; across instances
 * through the store's atomic lock where the backend has one), the rotated credentials are stored
 * before anyone uses the new access token, and the stored state is re-read inside the critical
 * section.
 */
export interface CredentialAuthority {
  /** Current credentials; refreshed first when they are about to expire or equal `rejected`. */
  obtain(seed: AccountSeed, rejected?: string): Promise<QwenCredentials>;
  /** The current credentials as stored, without refreshing (for the status page). */
  current(seed: AccountSeed): Promise<QwenCredentials>;
}

/** What the store keeps per account (storage-schema.md: `qwen:creds:<id>`). */
export interface StoredCredentials {
  credentials: QwenCredentials;
  /** Fingerprint of the deployed refresh token these credentials descend from. */
  lineage: string;
  updatedAt: number;
}

export const credentialsKey = (accountId: string) => `qwen:creds:${accountId}`;
export const refreshLockKey = (accountId: string) => `qwen:lock:refresh:${accountId}`;

/** A lock holder that died mid-refresh frees the account after this long. */
const LOCK_TTL_MS = 30_000;
const LOCK_WAIT_MAX_MS = 35_000;

/** What a refresh needs (fetch, clock, the OAuth server), plus where credentials are kept. */
export interface StoreCredentialAuthorityDeps extends Omit<RefreshOptions, 'signal'> {
  store: Store;
  logger: Logger;
}

export function isFresh(credentials: QwenCredentials, now: number): boolean {
  return now < credentials.expiry_date - TOKEN_REFRESH_BUFFER_MS;
}

export class StoreCredentialAuthority implements CredentialAuthority {
  readonly #deps: StoreCredentialAuthorityDeps;
  readonly #inflight = new Map<string, Promise<QwenCredentials>>();
  /** Refresh tokens Qwen refused, per account: asking again with the same one is pointless. */
  readonly #dead = new Map<string, string>();

  constructor(deps: StoreCredentialAuthorityDeps) {
    this.#deps = deps;
  }

  async obtain(seed: AccountSeed, rejected?: string): Promise<QwenCredentials> {
    const running = this.#inflight.get(seed.id);
    if (running) {
      const result = await running;
      // The flight we joined may have been a plain read that returned the very token Qwen rejected.
      if (result.access_token !== rejected) return result;
    }
    const flight = this.#run(seed, rejected).finally(() => {
      if (this.#inflight.get(seed.id) === flight) this.#inflight.delete(seed.id);
    });
    this.#inflight.set(seed.id, flight);
    return flight;
  }

  current(seed: AccountSeed): Promise<QwenCredentials> {
    return this.load(seed);
  }

  /** The credentials to start from: stored ones, unless the operator deployed a newer login. */
  async load(seed: AccountSeed): Promise<QwenCredentials> {
    const raw = await this.#deps.store.get(credentialsKey(seed.id));
    if (raw) {
      try {
        const stored = JSON.parse(raw) as StoredCredentials;
        if (stored.lineage === seed.lineage && typeof stored.credentials?.refresh_token === 'string') {
          return stored.credentials;
        }
      } catch {
        this.#deps.logger.warn('stored credentials are unreadable; using the deployed ones', { account: seed.id });
      }
    }
    return seed.credentials;
  }

  async #run(seed: AccountSeed, rejected: string | undefined): Promise<QwenCredentials> {
    const { store, clock } = this.#deps;
    let current = await this.load(seed);
    if (usable(current, rejected, clock.now())) return current;

    const lock = store.atomicSetIfAbsent ? await this.#acquire(seed, current, rejected) : undefined;
    if (lock?.result) return lock.result;
    try {
      if (lock) {
        // Re-read inside the critical section: the previous holder may have just rotated the token.
        current = await this.load(seed);
        if (usable(current, rejected, clock.now())) return current;
      }
      return await this.#refresh(seed, current);
    } finally {
      if (lock?.owner) await store.deleteIfValue(refreshLockKey(seed.id), lock.owner);
    }
  }

  /**
   * Takes the account's refresh lock, or waits for whoever holds it and returns what they stored.
   * Waiters poll the store instead of refreshing themselves.
   */
  async #acquire(
    seed: AccountSeed,
    before: QwenCredentials,
    rejected: string | undefined,
  ): Promise<{ owner?: string; result?: QwenCredentials }> {
    const { store, clock } = this.#deps;
    const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    const owner = crypto.randomUUID();
    const deadline = clock.now() + LOCK_WAIT_MAX_MS;
    let delay = 50;
    for (;;) {
      if (await store.setIfAbsent(refreshLockKey(seed.id), owner, { ttlMs: LOCK_TTL_MS })) return { owner };
      await pause(delay);
      delay = Math.min(delay * 1.5, 1_000);
      const now = await this.load(seed);
      if (now.refresh_token !== before.refresh_token && usable(now, rejected, clock.now())) return { result: now };
      if (clock.now() > deadline) {
        throw new GatewayError({
          status: 503,
          code: 'qwen_refresh_busy',
          message: `Another instance has been refreshing the credentials of account ${seed.id} for too long. Retry shortly.`,
          headers: { 'retry-after': '5' },
        });
      }
    }
  }

  async #refresh(seed: AccountSeed, current: QwenCredentials): Promise<QwenCredentials> {
    const { store, clock, logger } = this.#deps;
    if (this.#dead.get(seed.id) === current.refresh_token) throw credentialsInvalid(seed.id);
    let refreshed: QwenCredentials;
    try {
      refreshed = await refreshAccessToken(current, this.#deps);
    } catch (error) {
      if (!(error instanceof RefreshRefusedError)) throw error;
      // Before declaring the token dead, look again: another instance may have rotated it a moment ago.
      const latest = await this.load(seed);
      if (latest.refresh_token !== current.refresh_token && isFresh(latest, clock.now())) return latest;
      if (this.#dead.get(seed.id) !== current.refresh_token) {
        this.#dead.set(seed.id, current.refresh_token);
        logger.error('Qwen refused the refresh token; the account needs a new login', {
          account: seed.id,
          status: error.status,
          detail: error.detail,
        });
      }
      // The stored credentials are kept: they may be newer than the ones that failed.
      throw credentialsInvalid(seed.id);
    }
    // The old refresh token is spent now. Store the new one before the access token is used, so a
    // crash right here cannot lose the account.
    const record: StoredCredentials = { credentials: refreshed, lineage: seed.lineage, updatedAt: clock.now() };
    await store.set(credentialsKey(seed.id), JSON.stringify(record));
    logger.info('refreshed Qwen access token', { account: seed.id, expiresAt: new Date(refreshed.expiry_date).toISOString() });
    return refreshed;
  }
}

function usable(credentials: QwenCredentials, rejected: string | undefined, now: number): boolean {
  return credentials.access_token !== rejected && isFresh(credentials, now);
}

export function credentialsInvalid(accountId: string): GatewayError {
  return new GatewayError({
    status: 503,
    type: 'server_error',
    code: 'qwen_credentials_invalid',
    failure: { kind: 'credentials' },
    message:
      `Qwen refused to refresh the OAuth credentials of account ${accountId}: the refresh token was already used or revoked. ` +
      'Sign in again (`npm run login`) and deploy the new credentials as QWEN_CLI_AUTH. ' +
      "Note: Qwen's OAuth free tier was discontinued on 2026-04-15; with a Qwen API key, set QWEN_API_KEY instead.",
    headers: { 'x-should-retry': 'false' },
  });
}
