import { describe, expect, test } from 'vitest';
import { AccountPool } from '../../lib/accounts/account-pool.ts';
import { StoreAccountLedger, nextQuotaReset, quotaDay } from '../../lib/accounts/account-ledger.ts';
import type { CredentialAuthority } from '../../lib/accounts/credential-authority.ts';
import { loadConfig } from '../../lib/config.ts';
import { silentLogger } from '../../lib/logger.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';

const creds = (id: string) => ({ id, access_token: `at-${id}`, refresh_token: `rt-${id}`, token_type: 'Bearer', expiry_date: 4e12 });
const authority: CredentialAuthority = {
  obtain: async (seed) => seed.credentials,
  current: async (seed) => seed.credentials,
};

function setup(ids = ['a', 'b']) {
  let now = Date.UTC(2026, 10, 24, 12, 0, 0);
  const clock = { now: () => now };
  const store = new MemoryStore(clock);
  const ledger = new StoreAccountLedger(store, clock);
  const pool = (qwenCliAuth = JSON.stringify(ids.map(creds))) =>
    new AccountPool(loadConfig({ QWEN_CLI_AUTH: qwenCliAuth }), authority, ledger, clock, silentLogger);
  return { pool, ledger, advance: (ms: number) => (now += ms), clock };
}

const picks = async (pool: AccountPool, n: number) => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await pool.pick()).id);
  return out;
};

describe('AccountPool', () => {
  test('round robin over the accounts', async () => {
    expect(await picks(setup().pool(), 4)).toEqual(['a', 'b', 'a', 'b']);
  });

  test('a cooling account is skipped until its cooldown ends (fake clock)', async () => {
    const { pool, advance, clock } = setup();
    const p = pool();
    await p.coolDown('a', clock.now() + 60_000, 'quota');
    expect(await picks(p, 3)).toEqual(['b', 'b', 'b']);
    advance(60_001);
    expect((await picks(p, 4)).sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  test('another instance learns the cooldown from the shared ledger', async () => {
    const { pool, clock } = setup();
    const first = pool();
    const second = pool();
    await first.coolDown('a', clock.now() + 60_000, 'quota');
    expect(await picks(second, 2)).toEqual(['b', 'b']);
  });

  test('a request that tried an account does not get it again', async () => {
    const p = setup().pool();
    expect((await p.pick(new Set(['a']))).id).toBe('b');
  });

  test('all cooling: 429 with Retry-After until the soonest cooldown ends', async () => {
    const { pool, clock } = setup();
    const p = pool();
    await p.coolDown('a', clock.now() + 90_500, 'quota');
    await p.coolDown('b', clock.now() + 30_200, 'throttled');
    const error = await p.pick().catch((e) => e);
    expect(error).toMatchObject({ status: 429, code: 'all_accounts_cooling_down' });
    expect(error.headers['retry-after']).toBe('31');
  });

  test('all resting for their quota: the 429 keeps the code the first request got, insufficient_quota', async () => {
    const { pool, clock } = setup();
    const p = pool();
    await p.coolDown('a', nextQuotaReset(clock.now()), 'quota exhausted: Free allocated quota exceeded.');
    await p.coolDown('b', nextQuotaReset(clock.now()), 'quota exhausted: Free allocated quota exceeded.');
    const error = await p.pick().catch((e) => e);
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
  });

  test('a ledger that cannot be written does not fail the request that found the state', async () => {
    const { pool, clock } = setup();
    const failing = { snapshot: async () => ({}), setState: async () => Promise.reject(new Error('store down')), addUsage: async () => {} };
    const p = new AccountPool(loadConfig({ QWEN_CLI_AUTH: JSON.stringify(['a', 'b'].map(creds)) }), authority, failing, clock, silentLogger);
    await p.pick(); // the shared view is read once
    await expect(p.coolDown('a', clock.now() + 60_000, 'throttled')).resolves.toBeUndefined();
    expect(await picks(p, 3)).toEqual(['b', 'b', 'b']);
  });

  test('needs-relogin holds for the failed login only; a newly deployed login serves again', async () => {
    const { pool } = setup(['a']);
    const p = pool();
    await p.needsRelogin(await p.pick(), 'refresh refused; log in again');
    await expect(p.pick()).rejects.toMatchObject({ status: 503, code: 'qwen_credentials_invalid' });
    const redeployed = pool(JSON.stringify([{ ...creds('a'), refresh_token: 'rt-new-login' }]));
    expect((await redeployed.pick()).id).toBe('a');
  });

  test('usage is counted in memory and added to the ledger in batches; status reports it without tokens', async () => {
    const { pool, advance } = setup();
    const p = pool();
    expect(p.recordUsage('a', 10)).toBeUndefined();
    expect(p.recordUsage('a', 5)).toBeUndefined();
    advance(10_000);
    await p.recordUsage('b', 7);
    const status = await p.status();
    expect(status.find((s) => s.id === 'a')).toMatchObject({ state: 'ok', requestsToday: 2, tokensToday: 15 });
    expect(status.find((s) => s.id === 'b')).toMatchObject({ requestsToday: 1, tokensToday: 7 });
    expect(JSON.stringify(status)).not.toMatch(/at-|rt-/);
  });
});

describe('quota day', () => {
  test('resets at 00:00 Asia/Shanghai (16:00 UTC)', () => {
    expect(new Date(nextQuotaReset(Date.UTC(2026, 10, 24, 12, 0))).toISOString()).toBe('2026-11-24T16:00:00.000Z');
    expect(new Date(nextQuotaReset(Date.UTC(2026, 10, 24, 16, 0))).toISOString()).toBe('2026-11-25T16:00:00.000Z');
    expect(quotaDay(Date.UTC(2026, 10, 24, 15, 59))).toBe('2026-11-24');
    expect(quotaDay(Date.UTC(2026, 10, 24, 16, 0))).toBe('2026-11-25');
  });
});
