import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';
import type { Store } from '../../lib/store/store.ts';
import { silentLogger } from '../../lib/logger.ts';
import { faultyStore } from '../support/faulty-store.ts';
import { GatewayError } from '../../lib/errors.ts';
import { parseQwenCliAuth } from '../../lib/credentials/parse-qwen-cli-auth.ts';
import type { AccountSeed, QwenCredentials } from '../../lib/credentials/qwen-credentials.ts';
import { StoreCredentialAuthority, credentialsKey, type StoredCredentials } from '../../lib/accounts/credential-authority.ts';

let fake: FakeQwen;
beforeAll(async () => {
  fake = await startFakeQwen({ resourceUrlStyle: 'http' });
});
afterAll(() => fake.close());
beforeEach(() => fake.setScenario({ refreshLatencyMs: 0, refreshFault: 'none', omitResourceUrlOnRefresh: false }));

const clock = { now: () => Date.now() };
const authority = (store: Store) =>
  new StoreCredentialAuthority({ store, fetch: (i, init) => fetch(i, init), clock, logger: silentLogger, oauthBaseUrl: fake.oauthUrl });

async function seedOf(credentials: QwenCredentials): Promise<AccountSeed> {
  const parsed = await parseQwenCliAuth(JSON.stringify(credentials));
  if (!parsed.ok) throw parsed.error;
  return parsed.accounts[0]!;
}
const expired = (c: QwenCredentials) => ({ ...c, expiry_date: Date.now() - 1 });
const stored = async (store: Store, id: string) => JSON.parse((await store.get(credentialsKey(id)))!) as StoredCredentials;

describe('StoreCredentialAuthority', () => {
  test('fresh deployed credentials are used as they are: no refresh, no write', async () => {
    const store = new MemoryStore();
    const seed = await seedOf(fake.mintCredentials());
    const before = fake.counters.refreshCalls;
    const got = await authority(store).obtain(seed);
    expect(got.access_token).toBe(seed.credentials.access_token);
    expect(fake.counters.refreshCalls).toBe(before);
    expect(await store.get(credentialsKey(seed.id))).toBeNull();
  });

  test('an expiring token is refreshed and the rotated refresh token is stored with its lineage', async () => {
    const store = new MemoryStore();
    const seed = await seedOf(expired(fake.mintCredentials()));
    const got = await authority(store).obtain(seed);
    expect(got.refresh_token).not.toBe(seed.credentials.refresh_token);
    expect(got.expiry_date).toBeGreaterThan(Date.now() + 60_000);
    const record = await stored(store, seed.id);
    expect(record.credentials).toEqual(got);
    expect(record.lineage).toBe(seed.lineage);
  });

  test('a refresh answer without resource_url keeps the old one', async () => {
    fake.setScenario({ omitResourceUrlOnRefresh: true });
    const seed = await seedOf(expired(fake.mintCredentials()));
    const got = await authority(new MemoryStore()).obtain(seed);
    expect(got.resource_url).toBe(seed.credentials.resource_url);
  });

  test('stored credentials win over the deployed ones they descend from', async () => {
    const store = new MemoryStore();
    const seed = await seedOf(expired(fake.mintCredentials()));
    const rotated = await authority(store).obtain(seed);
    // A new isolate starts from the same (now spent) deployed credentials: it must use the stored ones.
    const before = fake.counters.refreshCalls;
    expect((await authority(store).obtain(seed)).access_token).toBe(rotated.access_token);
    expect(fake.counters.refreshCalls).toBe(before);
  });

  test('a new login deployed by the operator wins over stale stored credentials', async () => {
    const store = new MemoryStore();
    const first = fake.mintCredentials();
    const seed = { ...(await seedOf(expired(first))), id: 'work' };
    await authority(store).obtain(seed);
    const relogin = { ...(await seedOf(fake.mintCredentials())), id: 'work' };
    const got = await authority(store).obtain(relogin);
    expect(got.access_token).toBe(relogin.credentials.access_token);
  });

  test('a rejected access token is refreshed past, once', async () => {
    const store = new MemoryStore();
    const seed = await seedOf(fake.mintCredentials());
    const a = authority(store);
    const got = await a.obtain(seed, seed.credentials.access_token);
    expect(got.access_token).not.toBe(seed.credentials.access_token);
  });

  test('concurrent callers in one isolate share one refresh', async () => {
    fake.setScenario({ refreshLatencyMs: 200 });
    const seed = await seedOf(expired(fake.mintCredentials()));
    const a = authority(new MemoryStore());
    const before = fake.counters.refreshCalls;
    const results = await Promise.all(Array.from({ length: 10 }, () => a.obtain(seed)));
    expect(new Set(results.map((r) => r.access_token)).size).toBe(1);
    expect(fake.counters.refreshCalls).toBe(before + 1);
  });

  test('two instances sharing an atomic store refresh once: the lock holder refreshes, the other waits and reads', async () => {
    fake.setScenario({ refreshLatencyMs: 300 });
    const store = new MemoryStore();
    const seed = await seedOf(expired(fake.mintCredentials()));
    const instances = [authority(store), authority(store), authority(store)];
    const before = fake.counters.refreshCalls;
    const results = await Promise.all(instances.flatMap((i) => [i.obtain(seed), i.obtain(seed)]));
    expect(new Set(results.map((r) => r.access_token)).size).toBe(1);
    expect(fake.counters.refreshCalls).toBe(before + 1);
    expect(fake.counters.maxConcurrentRefreshes).toBe(1);
  });

  test('a refused refresh first re-reads the store: another instance may have just rotated the token', async () => {
    const store = new MemoryStore();
    const seed = await seedOf(expired(fake.mintCredentials()));
    const rotated = await authority(store).obtain(seed);
    // Instance b reads a stale "absent" first (as KV can for ~60 s), so it tries the spent deployed token.
    let staleReads = 1;
    const stale = faultyStore(store, (op) => (op === 'get' && staleReads-- > 0 ? Promise.resolve(null) : undefined), {
      name: 'stale',
      atomicSetIfAbsent: false,
    });
    const before = fake.counters.refreshCalls;
    const viaB = await authority(stale).obtain(seed);
    expect(fake.counters.refreshCalls).toBe(before + 1); // the refused attempt
    expect(viaB.access_token).toBe(rotated.access_token);
  });

  test('a dead refresh token is a 503 qwen_credentials_invalid, and the stored credentials are kept', async () => {
    const store = new MemoryStore();
    const seed = await seedOf(expired(fake.mintCredentials()));
    const a = authority(store);
    const rotated = await a.obtain(seed);
    fake.revoke({ refresh_token: rotated.refresh_token });
    const error = await a.obtain(seed, rotated.access_token).catch((e) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 503, code: 'qwen_credentials_invalid' });
    expect(error.headers['x-should-retry']).toBe('false');
    expect((await stored(store, seed.id)).credentials.refresh_token).toBe(rotated.refresh_token);
    // Asking again does not hammer Qwen with the same dead token.
    const before = fake.counters.refreshCalls;
    await expect(a.obtain(seed, rotated.access_token)).rejects.toMatchObject({ code: 'qwen_credentials_invalid' });
    expect(fake.counters.refreshCalls).toBe(before);
  });

  test('an HTML answer (no User-Agent firewall page) is a clear 502, not a crash, and the token is not consumed', async () => {
    fake.setScenario({ refreshFault: 'html' });
    const seed = await seedOf(expired(fake.mintCredentials()));
    const error = await authority(new MemoryStore()).obtain(seed).catch((e) => e);
    expect(error).toMatchObject({ status: 502, code: 'qwen_refresh_failed' });
    expect(error.message).toMatch(/not JSON/);
    fake.setScenario({ refreshFault: 'none' });
    await expect(authority(new MemoryStore()).obtain(seed)).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  test('a 5xx from the token endpoint is a 502 qwen_refresh_failed', async () => {
    fake.setScenario({ refreshFault: 503 });
    const seed = await seedOf(expired(fake.mintCredentials()));
    await expect(authority(new MemoryStore()).obtain(seed)).rejects.toMatchObject({ status: 502, code: 'qwen_refresh_failed' });
  });
});

describe('parseQwenCliAuth', () => {
  const creds = { access_token: 'a', refresh_token: 'r-123', token_type: 'Bearer', resource_url: 'portal.qwen.ai', expiry_date: 1 };

  test('one object or an array of them; ids are stable fingerprints unless named', async () => {
    const one = await parseQwenCliAuth(JSON.stringify(creds));
    const again = await parseQwenCliAuth(JSON.stringify(creds));
    expect(one.ok && again.ok && one.accounts[0]!.id === again.accounts[0]!.id).toBe(true);
    const many = await parseQwenCliAuth(JSON.stringify([creds, { ...creds, refresh_token: 'r-456', id: 'work' }]));
    expect(many.ok && many.accounts.map((a) => a.id)[1]).toBe('work');
    expect(many.ok && many.accounts[0]!.id).toMatch(/^q[0-9a-f]{8}$/);
  });

  test.each([
    [undefined, 'qwen_credentials_missing'],
    ['', 'qwen_credentials_missing'],
    ['{nope', 'qwen_credentials_malformed'],
    ['[]', 'qwen_credentials_missing'],
    ['"a string"', 'qwen_credentials_malformed'],
    [JSON.stringify({ access_token: 'a' }), 'qwen_credentials_malformed'],
    [JSON.stringify([creds, creds]), 'qwen_credentials_malformed'],
  ])('%s is reported as %s, naming QWEN_CLI_AUTH and never echoing a token', async (raw, code) => {
    const parsed = await parseQwenCliAuth(raw);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toMatchObject({ status: 503, code, type: 'server_error' });
    expect(parsed.error.message).toContain('QWEN_CLI_AUTH');
    expect(parsed.error.message).not.toContain('r-123');
  });

  test('a missing expiry_date means "refresh first", not NaN', async () => {
    const { expiry_date: _, ...noExpiry } = creds;
    const parsed = await parseQwenCliAuth(JSON.stringify(noExpiry));
    expect(parsed.ok && parsed.accounts[0]!.credentials.expiry_date).toBe(0);
  });
});
