import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../lib/store/store.ts';

export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
  /** Moves the store's clock forward; only for stores built on a controllable Clock. */
  advanceClock?(ms: number): void;
}

/**
 * How a backend's expiry can be observed from a test:
 * - 'clock': advance the fixture's clock past the TTL (memory store).
 * - 'real-time': a short TTL really expires; poll until the key is gone, within `timeoutMs`.
 * - 'minimum-60s': the backend cannot expire sooner than 60 s (KV), so only check that a short TTL
 *   is accepted and the value is readable right after.
 */
export type ExpiryMode = { kind: 'clock' } | { kind: 'real-time'; timeoutMs: number } | { kind: 'minimum-60s' };

export interface StoreContractOptions {
  expiry: ExpiryMode;
}

/** Values chosen to catch a backend or client that reshapes what it stores. */
export const TRICKY_VALUES: Record<string, string> = {
  unicode: 'héllo wörld ✓ 中文 🚀 \u0000 \n\t"\\',
  json: '{"a":1,"b":[true,null,"x"],"c":{"d":"é"}}',
  'json string': '"quoted"',
  'numeric 1.0': '1.0',
  'numeric 007': '007',
  'numeric big': '12345678901234567890',
  'true literal': 'true',
  'null literal': 'null',
  empty: '',
  OK: 'OK',
  base64ish: 'aGVsbG8=',
};

async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The shared behaviour every Store must have; each backend's test file calls this with its factory. */
export function defineStoreContract(
  label: string,
  factory: () => Promise<StoreFixture>,
  options: StoreContractOptions,
): void {
  describe(`Store contract: ${label}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    // A fresh prefix per test keeps cases apart even on a shared backend (e.g. REDIS_URL).
    let prefix: string;
    const key = (name: string) => `${prefix}:${name}`;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
      prefix = `contract:${randomUUID()}`;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('has a name and declares whether setIfAbsent is atomic', () => {
      expect(store.name).toMatch(/^[a-z][a-z-]*$/);
      expect(typeof store.atomicSetIfAbsent).toBe('boolean');
    });

    it('returns null for a missing key', async () => {
      expect(await store.get(key('missing'))).toBeNull();
    });

    for (const [what, value] of Object.entries(TRICKY_VALUES)) {
      it(`round-trips a ${what} value byte-identically`, async () => {
        await store.set(key('v'), value);
        const read = await store.get(key('v'));
        expect(typeof read).toBe('string');
        expect(read).toBe(value);
      });
    }

    it('round-trips a ~100 KB value', async () => {
      const value = JSON.stringify({ blob: 'x€'.repeat(50_000), n: 1 });
      expect(value.length).toBeGreaterThan(100_000);
      await store.set(key('large'), value);
      expect(await store.get(key('large'))).toBe(value);
    });

    it('overwrites an existing value', async () => {
      await store.set(key('k'), 'first');
      await store.set(key('k'), 'second');
      expect(await store.get(key('k'))).toBe('second');
    });

    it('deletes, and deleting a missing key is not an error', async () => {
      await store.set(key('k'), 'v');
      await store.delete(key('k'));
      expect(await store.get(key('k'))).toBeNull();
      await expect(store.delete(key('never-set'))).resolves.toBeUndefined();
    });

    it('setIfAbsent writes once, then refuses without changing the value', async () => {
      expect(await store.setIfAbsent(key('lock'), 'owner-1')).toBe(true);
      expect(await store.setIfAbsent(key('lock'), 'owner-2')).toBe(false);
      expect(await store.get(key('lock'))).toBe('owner-1');
    });

    it('setIfAbsent succeeds again after delete', async () => {
      expect(await store.setIfAbsent(key('lock'), 'a')).toBe(true);
      await store.delete(key('lock'));
      expect(await store.setIfAbsent(key('lock'), 'b')).toBe(true);
      expect(await store.get(key('lock'))).toBe('b');
    });

    it('deleteIfValue deletes only while the key holds that value', async () => {
      await store.set(key('lock'), 'mine');
      expect(await store.deleteIfValue(key('lock'), 'theirs')).toBe(false);
      expect(await store.get(key('lock'))).toBe('mine');
      expect(await store.deleteIfValue(key('lock'), 'mine')).toBe(true);
      expect(await store.get(key('lock'))).toBeNull();
      expect(await store.deleteIfValue(key('lock'), 'mine')).toBe(false);
    });

    it('deleteIfValue compares whole values, not prefixes or parsed forms', async () => {
      await store.set(key('lock'), '1.0');
      expect(await store.deleteIfValue(key('lock'), '1')).toBe(false);
      expect(await store.deleteIfValue(key('lock'), '1.00')).toBe(false);
      expect(await store.get(key('lock'))).toBe('1.0');
    });

    const expiry = options.expiry;
    if (expiry.kind === 'clock') {
      it('expires a key after its TTL (controllable clock)', async () => {
        if (!fixture.advanceClock) throw new Error('expiry kind "clock" needs fixture.advanceClock');
        await store.set(key('t'), 'v', { ttlMs: 1_000 });
        await store.setIfAbsent(key('lock'), 'a', { ttlMs: 1_000 });
        fixture.advanceClock(999);
        expect(await store.get(key('t'))).toBe('v');
        expect(await store.setIfAbsent(key('lock'), 'b', { ttlMs: 1_000 })).toBe(false);
        fixture.advanceClock(1);
        expect(await store.get(key('t'))).toBeNull();
        expect(await store.setIfAbsent(key('lock'), 'b')).toBe(true);
        expect(await store.deleteIfValue(key('t'), 'v')).toBe(false);
      });
    } else if (expiry.kind === 'real-time') {
      it('expires a key after a short TTL (polled, bounded)', async () => {
        await store.set(key('t'), 'v', { ttlMs: 150 });
        await store.set(key('keep'), 'v');
        expect(await store.get(key('t'))).toBe('v');
        const after = await pollUntil(() => store.get(key('t')), (v) => v === null, expiry.timeoutMs);
        expect(after).toBeNull();
        expect(await store.get(key('keep'))).toBe('v');
      });
      it('a setIfAbsent lock with a TTL can be taken again once it expires', async () => {
        expect(await store.setIfAbsent(key('lock'), 'a', { ttlMs: 150 })).toBe(true);
        expect(await store.setIfAbsent(key('lock'), 'b', { ttlMs: 150 })).toBe(false);
        const taken = await pollUntil(() => store.setIfAbsent(key('lock'), 'c', { ttlMs: 60_000 }), (ok) => ok, expiry.timeoutMs);
        expect(taken).toBe(true);
        expect(await store.get(key('lock'))).toBe('c');
      });
    } else {
      it('accepts a TTL below the backend minimum and keeps the value readable', async () => {
        await store.set(key('t'), 'v', { ttlMs: 1_000 });
        expect(await store.setIfAbsent(key('lock'), 'a', { ttlMs: 1 })).toBe(true);
        expect(await store.get(key('t'))).toBe('v');
        expect(await store.get(key('lock'))).toBe('a');
      });
    }

    it('set with a TTL replaces a value that had none', async () => {
      await store.set(key('k'), 'old');
      await store.set(key('k'), 'new', { ttlMs: 60_000 });
      expect(await store.get(key('k'))).toBe('new');
    });

    it('concurrent setIfAbsent: exactly one winner where atomic, at least one otherwise', async () => {
      const contenders = Array.from({ length: 20 }, (_, i) => `owner-${i}`);
      const results = await Promise.all(contenders.map((owner) => store.setIfAbsent(key('race'), owner, { ttlMs: 60_000 })));
      const winners = contenders.filter((_, i) => results[i]);
      const stored = await store.get(key('race'));
      if (store.atomicSetIfAbsent) {
        expect(winners).toHaveLength(1);
        expect(stored).toBe(winners[0]);
      } else {
        // Advisory stores may let several callers believe they won; the last write stands.
        expect(winners.length).toBeGreaterThanOrEqual(1);
        expect(winners).toContain(stored);
      }
    });

    it('extendIfValue renews a lease only while the key holds that value', async () => {
      await store.set(key('lease'), 'mine', { ttlMs: 60_000 });
      expect(await store.extendIfValue(key('lease'), 'theirs', 120_000)).toBe(false);
      expect(await store.extendIfValue(key('lease'), 'mine', 120_000)).toBe(true);
      expect(await store.get(key('lease'))).toBe('mine');
      expect(await store.extendIfValue(key('absent'), 'mine', 120_000)).toBe(false);
    });

    it('incrementFields creates, adds and reads named counters; odd field names stay fields', async () => {
      expect(await store.getFields(key('c'))).toEqual({});
      await store.incrementFields(key('c'), { requests: 1, tokens: 10 }, { ttlMs: 60_000 });
      const after = await store.incrementFields(key('c'), { requests: 2, __proto__x: 1 }, { ttlMs: 60_000 });
      expect(after).toMatchObject({ requests: 3, tokens: 10 });
      // Miniflare's test proxy cannot carry such names to the Durable Object (its store shares the
      // JSON record code with memory and KV, which check it).
      if (store.name !== 'durable-object') {
        const odd = await store.incrementFields(key('odd'), JSON.parse('{"__proto__": 5, "constructor": 1}'));
        expect(Object.keys(odd).sort()).toEqual(['__proto__', 'constructor']);
        expect(Object.getPrototypeOf(odd)).toBe(Object.prototype);
      }
      expect(await store.getFields(key('c'))).toEqual({ requests: 3, tokens: 10, __proto__x: 1 });
    });

    it('concurrent incrementFields: no count lost where the backend is atomic', async () => {
      await Promise.all(Array.from({ length: 40 }, () => store.incrementFields(key('hot'), { n: 1, m: 2 })));
      const fields = await store.getFields(key('hot'));
      if (store.name === 'cloudflare-kv') expect(fields.n).toBeGreaterThanOrEqual(1);
      else expect(fields).toEqual({ n: 40, m: 80 });
    });
  });
}
