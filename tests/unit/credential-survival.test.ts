import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';
import type { Store } from '../../lib/store/store.ts';
import type { Logger } from '../../lib/logger.ts';
import { parseQwenCliAuth } from '../../lib/credentials/parse-qwen-cli-auth.ts';
import type { AccountSeed, QwenCredentials } from '../../lib/credentials/qwen-credentials.ts';
import {
  StoreCredentialAuthority,
  credentialsKey,
  refreshLockKey,
  type StoreCredentialAuthorityDeps,
  type StoredCredentials,
} from '../../lib/accounts/credential-authority.ts';
import { faultyStore, storeDown } from '../support/faulty-store.ts';

/**
 * "It never loses your credentials": a refresh whose answer comes late, and a store that fails
 * around a refresh, must leave the account alive (Qwen rotates the refresh token on arrival).
 */
let fake: FakeQwen;
beforeAll(async () => {
  fake = await startFakeQwen({ resourceUrlStyle: 'http' });
});
afterAll(() => fake.close());
beforeEach(() => fake.setScenario({ refreshLatencyMs: 0, refreshFault: 'none' }));

const clock = { now: () => Date.now() };
interface Line {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}
function recordingLogger(lines: Line[]): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
function authority(store: Store, extra: Partial<StoreCredentialAuthorityDeps> = {}, lines: Line[] = []) {
  return new StoreCredentialAuthority({
    store,
    fetch: (i, init) => fetch(i, init),
    clock,
    logger: recordingLogger(lines),
    oauthBaseUrl: fake.oauthUrl,
    persistRetryMs: 20,
    ...extra,
  });
}
async function seedOf(credentials: QwenCredentials): Promise<AccountSeed> {
  const parsed = await parseQwenCliAuth(JSON.stringify(credentials));
  if (!parsed.ok) throw parsed.error;
  return parsed.accounts[0]!;
}
const expired = (c: QwenCredentials) => ({ ...c, expiry_date: Date.now() - 1 });
const storedIn = async (store: Store, id: string) => {
  const raw = await store.get(credentialsKey(id));
  return raw ? (JSON.parse(raw) as StoredCredentials) : undefined;
};
const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};
/** No refresh token was ever sent twice: the account was never refreshed with a spent token. */
const noSpentTokenReused = () => Object.values(fake.counters.refreshCallsByToken).every((n) => n === 1);

describe('a slow token endpoint', () => {
  test('the caller gets a 503 qwen_refresh_busy, the refresh runs on, and its answer is stored and used', async () => {
    fake.setScenario({ refreshLatencyMs: 600 });
    const store = new MemoryStore();
    const seed = await seedOf(expired(fake.mintCredentials()));
    const kept: Promise<unknown>[] = [];
    const a = authority(store, { refreshWaitMs: 150, keepAlive: (work) => void kept.push(work) });
    const before = fake.counters.refreshCalls;
    await expect(a.obtain(seed)).rejects.toMatchObject({ status: 503, code: 'qwen_refresh_busy', headers: { 'retry-after': '5' } });
    // The host was asked to keep the refresh alive; it ends once the answer is stored.
    expect(kept).toHaveLength(1);
    await kept[0];
    const record = await storedIn(store, seed.id);
    expect(record?.credentials.refresh_token).toBeDefined();
    expect(record!.credentials.refresh_token).not.toBe(seed.credentials.refresh_token);
    // The next request uses what the slow refresh brought: no second refresh, no spent token.
    fake.setScenario({ refreshLatencyMs: 0 });
    expect((await a.obtain(seed)).access_token).toBe(record!.credentials.access_token);
    expect(fake.counters.refreshCalls).toBe(before + 1);
    expect(noSpentTokenReused()).toBe(true);
  });

  test('a caller arriving while the slow refresh runs joins it instead of starting another', async () => {
    fake.setScenario({ refreshLatencyMs: 500 });
    const seed = await seedOf(expired(fake.mintCredentials()));
    const a = authority(new MemoryStore(), { refreshWaitMs: 100 });
    const before = fake.counters.refreshCalls;
    await expect(a.obtain(seed)).rejects.toMatchObject({ code: 'qwen_refresh_busy' });
    const second = await a.obtain(seed).catch((e) => e);
    expect(second).toMatchObject({ code: 'qwen_refresh_busy' });
    fake.setScenario({ refreshLatencyMs: 0 });
    await until(async () => (await a.obtain(seed).catch(() => undefined)) !== undefined);
    expect(fake.counters.refreshCalls).toBe(before + 1);
  });

  test('the refresh lock is renewed while a refresh outlasts its TTL, so no other instance refreshes the same token', async () => {
    fake.setScenario({ refreshLatencyMs: 700 });
    const store = new MemoryStore();
    const seed = await seedOf(expired(fake.mintCredentials()));
    const options = { lockTtlMs: 150, refreshWaitMs: 2_000 };
    const before = fake.counters.refreshCalls;
    const first = authority(store, options).obtain(seed);
    await until(async () => (await store.get(refreshLockKey(seed.id))) !== null);
    // Another instance arrives after the lock's original TTL has passed.
    await new Promise((r) => setTimeout(r, 300));
    const second = authority(store, options).obtain(seed);
    const [a, b] = await Promise.all([first, second]);
    expect(b.access_token).toBe(a.access_token);
    expect(fake.counters.refreshCalls).toBe(before + 1);
    expect(noSpentTokenReused()).toBe(true);
  });
});

describe('a store that fails around a refresh', () => {
  test('rotated credentials are served from memory, retried with backoff, logged at error level until stored', async () => {
    const inner = new MemoryStore();
    let failWrites = 4;
    const store = faultyStore(inner, (op) => (op === 'set' && failWrites-- > 0 ? storeDown() : undefined));
    const seed = await seedOf(expired(fake.mintCredentials()));
    const lines: Line[] = [];
    const kept: Promise<unknown>[] = [];
    const a = authority(store, { keepAlive: (work) => void kept.push(work) }, lines);
    const got = await a.obtain(seed);
    expect(got.refresh_token).not.toBe(seed.credentials.refresh_token);
    // Served from this instance while the store refuses it.
    expect((await a.obtain(seed)).access_token).toBe(got.access_token);
    // The lock stays held until the write lands: another instance must not refresh the spent token.
    expect(await inner.get(refreshLockKey(seed.id))).not.toBeNull();
    await Promise.all(kept);
    expect((await storedIn(inner, seed.id))?.credentials).toEqual(got);
    expect(await inner.get(refreshLockKey(seed.id))).toBeNull();
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(errors.every((l) => l.fields?.account === seed.id)).toBe(true);
    const said = JSON.stringify(lines);
    expect(said).not.toContain(got.refresh_token);
    expect(said).not.toContain(got.access_token);
    expect(lines.some((l) => l.message.includes('stored now'))).toBe(true);
  });

  test('a store that is down for reads too still serves the rotated credentials from this instance', async () => {
    const inner = new MemoryStore();
    let down = false;
    let tripped = false;
    // This instance's write is where the store goes down (right after Qwen rotated the token).
    const mine = faultyStore(inner, (op) => {
      if (op === 'set' && !tripped) tripped = down = true;
      return down ? storeDown() : undefined;
    });
    const theirs = faultyStore(inner, () => (down ? storeDown() : undefined));
    const seed = await seedOf(expired(fake.mintCredentials()));
    const kept: Promise<unknown>[] = [];
    const a = authority(mine, { persistRetryMs: 50, keepAlive: (work) => void kept.push(work) });
    const got = await a.obtain(seed);
    expect((await a.obtain(seed)).access_token).toBe(got.access_token);
    expect((await a.current(seed)).access_token).toBe(got.access_token);
    // Another instance cannot decide while the store is down: a 503 of its own, never a 500.
    await expect(authority(theirs).obtain(seed)).rejects.toMatchObject({ status: 503, code: 'store_unavailable' });
    // The store comes back: the retried write lands, and the other instance reads the rotated token.
    down = false;
    await Promise.all(kept);
    expect((await authority(theirs).obtain(seed)).access_token).toBe(got.access_token);
    expect(noSpentTokenReused()).toBe(true);
  });

  test('a store that cannot be read before a refresh is a 503 store_unavailable, and nothing is refreshed', async () => {
    const store = faultyStore(new MemoryStore(), () => storeDown());
    const seed = await seedOf(expired(fake.mintCredentials()));
    const before = fake.counters.refreshCalls;
    await expect(authority(store).obtain(seed)).rejects.toMatchObject({ status: 503, code: 'store_unavailable', type: 'server_error' });
    expect(fake.counters.refreshCalls).toBe(before);
  });

  test('Durable Object path: an injected storage failure on the write keeps the rotated token and stores it later', async () => {
    const { DurableObjectStore } = await import('../../lib/store/durable-object-store.ts');
    const entries = new Map<string, unknown>();
    let failPuts = 2;
    const storage = {
      get: async <T>(key: string) => entries.get(key) as T | undefined,
      put: async <T>(key: string, value: T) => {
        if (key.startsWith('qwen:creds:') && failPuts-- > 0) throw new Error('Durable Object storage operation failed (injected)');
        entries.set(key, value);
      },
      delete: async (key: string) => entries.delete(key),
    };
    const store = new DurableObjectStore(storage, clock);
    const seed = await seedOf(expired(fake.mintCredentials()));
    const kept: Promise<unknown>[] = [];
    const a = authority(store, { keepAlive: (work) => void kept.push(work) });
    const got = await a.obtain(seed);
    await Promise.all(kept);
    expect((await storedIn(store, seed.id))?.credentials).toEqual(got);
    expect(noSpentTokenReused()).toBe(true);
  });
});
