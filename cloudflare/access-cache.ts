import { accessOnly, type AccessCredentials, type StoredCredentials } from '../lib/accounts/credential-authority.ts';
import { credentialsKey } from '../lib/accounts/credential-authority.ts';
import type { Store } from '../lib/store/store.ts';
import type { Logger } from '../lib/logger.ts';

/**
 * The isolates' KV read cache of each account's access token. It never holds a refresh token: only
 * the QwenAccounts Durable Object keeps those, so a KV read (or a leak of the namespace) cannot
 * spend or steal an account.
 */
export const accessCacheKey = (accountId: string) => `qwen:access:${accountId}`;

export interface CachedAccess {
  credentials: AccessCredentials;
  lineage: string;
  updatedAt: number;
}

/** Called by the object after it stored rotated credentials: the isolates' copy, minus the refresh token. */
export async function cacheAccess(kv: Store, accountId: string, record: StoredCredentials, logger: Logger): Promise<void> {
  const cached: CachedAccess = { credentials: accessOnly(record.credentials), lineage: record.lineage, updatedAt: record.updatedAt };
  try {
    await kv.set(accessCacheKey(accountId), JSON.stringify(cached));
    // Earlier versions cached the whole credentials (refresh token included) under this key.
    await kv.delete(credentialsKey(accountId));
  } catch (error) {
    // The object's own storage is the truth; a failed cache write only costs a cold isolate a call.
    logger.warn('could not update the access-token cache in KV', { account: accountId, error: error instanceof Error ? error.message : String(error) });
  }
}
