import { GatewayError, deadCredentials } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { AccountSeed, QwenCredentials } from '../credentials/qwen-credentials.ts';
import { RefreshRefusedError, refreshAccessToken, type RefreshOptions } from '../qwen/refresh-access-token.ts';
import { TOKEN_REFRESH_BUFFER_MS } from '../qwen/constants.ts';

/**
 * Decides which credentials of an account are current and refreshes them. It is the only code that
 * spends a refresh token, and Qwen's refresh tokens are single-use: two refreshes of the same token
 * kill the account, and so does a refresh whose answer is thrown away. So:
 * - a refresh happens at most once at a time (per isolate here; across instances through the store's
 *   atomic lock where the backend has one), and the stored state is re-read inside that section;
 * - a refresh, once sent, is never abandoned: a caller that waited too long gets a 503, but the
 *   refresh runs on (kept alive by the host) and whatever Qwen answers is stored;
 * - rotated credentials are stored before anyone uses the new access token; when the store fails,
 *   they are kept and served from this instance, and the write is retried until it succeeds (the
 *   lock stays held meanwhile, so no other instance refreshes the spent token).
 */
export interface CredentialAuthority {
  /** Current credentials; refreshed first when they are about to expire or equal `rejected`. */
  obtain(seed: AccountSeed, rejected?: string): Promise<AccessCredentials>;
  /** The current credentials as stored, without refreshing (for the status page). */
  current(seed: AccountSeed): Promise<AccessCredentials>;
}

/** What serving needs: everything but the refresh token, which stays with the single writer. */
export type AccessCredentials = Omit<QwenCredentials, 'refresh_token'>;

export function accessOnly(credentials: AccessCredentials): AccessCredentials {
  const { access_token, token_type, resource_url, expiry_date } = credentials;
  return { access_token, token_type, ...(resource_url === undefined ? {} : { resource_url }), expiry_date };
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

/**
 * A lock holder that died mid-refresh frees the account after this long. A live holder renews it
 * every third of that for as long as its refresh (and the write after it) runs.
 */
const LOCK_TTL_MS = 30_000;
/**
 * How long a caller waits for a refresh before it is told to retry (the refresh itself goes on).
 * Short enough that the request can still move on to another account and start its answer within
 * Vercel's 25 s.
 */
export const REFRESH_WAIT_MS = 15_000;
/** First pause before a failed credentials write is tried again; it doubles up to the maximum. */
const PERSIST_RETRY_MS = 500;
const PERSIST_RETRY_MAX_MS = 10_000;

/** What a refresh needs (fetch, clock, the OAuth server), plus where credentials are kept. */
export interface StoreCredentialAuthorityDeps extends Omit<RefreshOptions, 'signal'> {
  store: Store;
  logger: Logger;
  /** Keeps work alive after the request that started it has its answer (the host's waitUntil). */
  keepAlive?: (work: Promise<unknown>) => void;
  /** Told after rotated credentials were stored (the Durable Object updates the isolates' KV cache). */
  onStored?: (accountId: string, record: StoredCredentials) => Promise<void>;
  /** Overrides LOCK_TTL_MS (tests). */
  lockTtlMs?: number;
  /** Overrides REFRESH_WAIT_MS (tests). */
  refreshWaitMs?: number;
  /** Overrides the first retry pause of a failed credentials write (tests). */
  persistRetryMs?: number;
}

export function isFresh(credentials: AccessCredentials, now: number): boolean {
  return now < credentials.expiry_date - TOKEN_REFRESH_BUFFER_MS;
}

export class StoreCredentialAuthority implements CredentialAuthority {
  readonly #deps: StoreCredentialAuthorityDeps;
  readonly #inflight = new Map<string, Promise<QwenCredentials>>();
  /** Refresh tokens Qwen refused, per account: asking again with the same one is pointless. */
  readonly #dead = new Map<string, string>();
  /** Rotated credentials the store has not accepted yet: this instance serves them meanwhile. */
  readonly #unpersisted = new Map<string, StoredCredentials>();
  /** Per account, the write retries and lock release still running after a flight returned. */
  readonly #after = new Map<string, Promise<void>>();
  /** Flights whose callers gave up: their outcome is logged, since nobody else will hear of it. */
  readonly #orphaned = new WeakSet<Promise<QwenCredentials>>();

  constructor(deps: StoreCredentialAuthorityDeps) {
    this.#deps = deps;
  }

  get #lockTtlMs(): number {
    return this.#deps.lockTtlMs ?? LOCK_TTL_MS;
  }

  async obtain(seed: AccountSeed, rejected?: string): Promise<QwenCredentials> {
    const running = this.#inflight.get(seed.id);
    if (running) {
      const result = await this.#wait(seed, running);
      // The flight we joined may have been a plain read that returned the very token Qwen rejected.
      if (result.access_token !== rejected) return result;
    }
    const flight = this.#run(seed, rejected).finally(() => {
      if (this.#inflight.get(seed.id) === flight) this.#inflight.delete(seed.id);
    });
    this.#inflight.set(seed.id, flight);
    // Kept alive past the caller: the refresh, then the write and lock release that may follow it.
    this.#deps.keepAlive?.(flight.then(noop, noop).then(() => this.#after.get(seed.id)));
    return this.#wait(seed, flight);
  }

  current(seed: AccountSeed): Promise<QwenCredentials> {
    return this.load(seed);
  }

  /** The credentials to start from: stored ones, unless the operator deployed a newer login. */
  async load(seed: AccountSeed): Promise<QwenCredentials> {
    const held = this.#unpersisted.get(seed.id);
    if (held && held.lineage === seed.lineage) return held.credentials;
    const raw = await this.#stored(seed.id, () => this.#deps.store.get(credentialsKey(seed.id)));
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

  /** The caller waits a bounded time; the flight itself runs to its end either way. */
  async #wait(seed: AccountSeed, flight: Promise<QwenCredentials>): Promise<QwenCredentials> {
    const waitMs = this.#deps.refreshWaitMs ?? REFRESH_WAIT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<'gave up'>((resolve) => (timer = setTimeout(() => resolve('gave up'), waitMs)));
    try {
      const first = await Promise.race([flight, gaveUp]);
      if (first !== 'gave up') return first;
    } finally {
      clearTimeout(timer);
    }
    if (!this.#orphaned.has(flight)) {
      this.#orphaned.add(flight);
      flight.then(
        () => this.#deps.logger.info('a slow refresh finished after its callers were answered', { account: seed.id }),
        (error: unknown) => this.#deps.logger.warn('a slow refresh failed after its callers were answered', { account: seed.id, error: describe(error) }),
      );
    }
    throw refreshBusy(
      `The refresh of account ${seed.id} has not finished within ${Math.round(waitMs / 1000)} s (Qwen's token endpoint is slow); ` +
        'it goes on, and its answer will be kept. Retry shortly.',
    );
  }

  async #run(seed: AccountSeed, rejected: string | undefined): Promise<QwenCredentials> {
    const { store, clock } = this.#deps;
    let current: QwenCredentials;
    try {
      current = await this.load(seed);
    } catch (error) {
      // Serving with a deployed access token that is still good needs no store; only a refresh does.
      if (usable(seed.credentials, rejected, clock.now())) return seed.credentials;
      throw error;
    }
    if (usable(current, rejected, clock.now())) return current;

    const lock = store.atomicSetIfAbsent ? await this.#acquire(seed, current, rejected) : undefined;
    if (lock?.result) return lock.result;
    const lease = lock?.owner ? this.#holdLease(seed.id, lock.owner) : undefined;
    let persisted: Promise<void> | undefined;
    try {
      if (lock) {
        // Re-read inside the critical section: the previous holder may have just rotated the token.
        current = await this.load(seed);
        if (usable(current, rejected, clock.now())) return current;
      }
      const refreshed = await this.#refresh(seed, current);
      persisted = refreshed.persisted;
      return refreshed.credentials;
    } finally {
      if (persisted) {
        // The lock is held until the rotated credentials are stored: whoever took it sooner would
        // read the spent refresh token from the store and refresh it.
        const after = lease ? persisted.then(() => lease.release()) : persisted;
        this.#after.set(seed.id, after);
        void after.finally(() => this.#after.get(seed.id) === after && this.#after.delete(seed.id));
      } else {
        await lease?.release();
      }
    }
  }

  /**
   * Takes the account's refresh lock, or waits for whoever holds it and returns what they stored.
   * Waiters poll the store instead of refreshing themselves, for as long as a caller waits.
   */
  async #acquire(
    seed: AccountSeed,
    before: QwenCredentials,
    rejected: string | undefined,
  ): Promise<{ owner?: string; result?: QwenCredentials }> {
    const { store, clock } = this.#deps;
    const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    const owner = crypto.randomUUID();
    const deadline = clock.now() + (this.#deps.refreshWaitMs ?? REFRESH_WAIT_MS);
    let delay = 50;
    for (;;) {
      const key = refreshLockKey(seed.id);
      if (await this.#stored(seed.id, () => store.setIfAbsent(key, owner, { ttlMs: this.#lockTtlMs }))) return { owner };
      await pause(delay);
      delay = Math.min(delay * 1.5, 1_000);
      const now = await this.load(seed);
      if (now.refresh_token !== before.refresh_token && usable(now, rejected, clock.now())) return { result: now };
      if (clock.now() > deadline) {
        throw refreshBusy(`Another instance has been refreshing the credentials of account ${seed.id} for too long. Retry shortly.`);
      }
    }
  }

  /** Renews the lock while its holder works; release() stops renewing and frees it. */
  #holdLease(accountId: string, owner: string): { release(): Promise<void> } {
    const { store, logger } = this.#deps;
    const key = refreshLockKey(accountId);
    const ttlMs = this.#lockTtlMs;
    const renew = setInterval(() => {
      store.extendIfValue(key, owner, ttlMs).then(
        (held) => held || logger.error('the refresh lock was lost while refreshing', { account: accountId }),
        (error: unknown) => logger.warn('could not renew the refresh lock', { account: accountId, error: describe(error) }),
      );
    }, ttlMs / 3);
    return {
      async release() {
        clearInterval(renew);
        // A lock we cannot delete expires by itself; the caller has its credentials either way.
        await store.deleteIfValue(key, owner).catch((error: unknown) =>
          logger.warn('could not release the refresh lock; it expires by itself', { account: accountId, error: describe(error) }),
        );
      },
    };
  }

  async #refresh(seed: AccountSeed, current: QwenCredentials): Promise<{ credentials: QwenCredentials; persisted?: Promise<void> }> {
    const { clock, logger } = this.#deps;
    if (this.#dead.get(seed.id) === current.refresh_token) throw credentialsInvalid(seed.id);
    let refreshed: QwenCredentials;
    try {
      refreshed = await refreshAccessToken(current, this.#deps);
    } catch (error) {
      if (!(error instanceof RefreshRefusedError)) throw error;
      // Before declaring the token dead, look again: another instance may have rotated it a moment ago.
      const latest = await this.load(seed);
      if (latest.refresh_token !== current.refresh_token && isFresh(latest, clock.now())) return { credentials: latest };
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
    // crash right here cannot lose the account; a store that fails gets it later, from memory.
    const record: StoredCredentials = { credentials: refreshed, lineage: seed.lineage, updatedAt: clock.now() };
    this.#unpersisted.set(seed.id, record);
    logger.info('refreshed Qwen access token', { account: seed.id, expiresAt: new Date(refreshed.expiry_date).toISOString() });
    try {
      await this.#write(record, seed.id);
      return { credentials: refreshed };
    } catch (error) {
      logger.error('rotated Qwen credentials could not be stored; serving them from this instance and retrying', {
        account: seed.id,
        error: describe(error),
      });
      const persisted = this.#persistLater(seed.id, record);
      return { credentials: refreshed, persisted };
    }
  }

  async #write(record: StoredCredentials, accountId: string): Promise<void> {
    await this.#deps.store.set(credentialsKey(accountId), JSON.stringify(record));
    if (this.#unpersisted.get(accountId) === record) this.#unpersisted.delete(accountId);
    await this.#deps.onStored?.(accountId, record);
  }

  /** Retries the write with backoff until the store takes it or a newer refresh supersedes it. */
  async #persistLater(accountId: string, record: StoredCredentials): Promise<void> {
    const { logger } = this.#deps;
    let delay = this.#deps.persistRetryMs ?? PERSIST_RETRY_MS;
    for (let attempt = 2; ; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, PERSIST_RETRY_MAX_MS);
      if (this.#unpersisted.get(accountId) !== record) return;
      try {
        await this.#write(record, accountId);
        logger.warn('rotated Qwen credentials are stored now', { account: accountId, attempt });
        return;
      } catch (error) {
        logger.error('rotated Qwen credentials are still not stored; only this instance holds them', {
          account: accountId,
          attempt,
          error: describe(error),
        });
      }
    }
  }

  /** A store call whose failure means "cannot decide about credentials now", never a 500. */
  async #stored<T>(accountId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      this.#deps.logger.error('the credentials store failed', { account: accountId, error: describe(error) });
      throw storeUnavailable(accountId, error);
    }
  }
}

const noop = () => {};

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function refreshBusy(message: string): GatewayError {
  // Another account that needs no refresh may serve meanwhile.
  return new GatewayError({ status: 503, code: 'qwen_refresh_busy', message, headers: { 'retry-after': '5' }, failure: { kind: 'refresh_failed' } });
}

/** The store could not be read or written while this account's credentials were needed. */
export function storeUnavailable(accountId: string, cause?: unknown): GatewayError {
  return new GatewayError({
    status: 503,
    type: 'server_error',
    code: 'store_unavailable',
    message: `The gateway's credential store is not reachable, so account ${accountId} cannot be refreshed now. Retry shortly.`,
    headers: { 'retry-after': '2' },
    failure: { kind: 'refresh_failed' },
    cause,
  });
}

function usable(credentials: AccessCredentials, rejected: string | undefined, now: number): boolean {
  return credentials.access_token !== rejected && isFresh(credentials, now);
}

export function credentialsInvalid(accountId: string): GatewayError {
  return deadCredentials(
    'qwen_credentials_invalid',
    `Qwen refused to refresh the OAuth credentials of account ${accountId}: the refresh token was already used or revoked. ` +
      'Sign in again (`npm run login`) and deploy the new credentials as QWEN_CLI_AUTH. ' +
      "Note: Qwen's OAuth free tier was discontinued on 2026-04-15; with a Qwen API key, set QWEN_API_KEY instead.",
  );
}
