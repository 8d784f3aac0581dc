import { describe, expect, test } from 'vitest';
import { AccountPool } from '../../lib/accounts/account-pool.ts';
import { StoreAccountLedger } from '../../lib/accounts/account-ledger.ts';
import type { CredentialAuthority } from '../../lib/accounts/credential-authority.ts';
import { PLAN_ALLOWANCES, QuotaWindows } from '../../lib/accounts/quota-windows.ts';
import { loadConfig } from '../../lib/config.ts';
import { silentLogger } from '../../lib/logger.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';

const HOUR = 3_600_000;

function setup(start = Date.UTC(2026, 6, 22, 10, 0, 0)) {
  let now = start;
  const clock = { now: () => now };
  const store = new MemoryStore(clock);
  return { store, clock, windows: new QuotaWindows(store), advance: (ms: number) => (now += ms) };
}

describe('QuotaWindows (fake clock)', () => {
  test('counts requests per window, each with its reset', async () => {
    const { windows, clock } = setup();
    await windows.add('k', 3, clock.now());
    await windows.add('k', 2, clock.now());
    expect(await windows.usage('k', clock.now(), PLAN_ALLOWANCES['coding-plan']!.lite)).toEqual([
      { window: '5h', requests: 5, allowance: 1_200, resetsAt: '2026-07-22T15:00:00.000Z' },
      { window: 'week', requests: 5, allowance: 9_000, resetsAt: '2026-07-26T16:00:00.000Z' },
      { window: 'month', requests: 5, allowance: 18_000, resetsAt: '2026-07-31T16:00:00.000Z' },
    ]);
  });

  test('the 5-hour window closes 5 hours after it opened; the next request opens a new one', async () => {
    const { windows, clock, advance } = setup();
    await windows.add('k', 4, clock.now());
    advance(4 * HOUR);
    await windows.add('k', 1, clock.now());
    expect((await windows.usage('k', clock.now()))[0]).toMatchObject({ requests: 5, resetsAt: '2026-07-22T15:00:00.000Z', allowance: null });
    advance(HOUR);
    const [fiveHours, week] = await windows.usage('k', clock.now());
    expect(fiveHours).toMatchObject({ requests: 0, resetsAt: '2026-07-22T20:00:00.000Z' });
    expect(week!.requests).toBe(5);
    await windows.add('k', 1, clock.now());
    expect((await windows.usage('k', clock.now()))[0]).toMatchObject({ requests: 1, resetsAt: '2026-07-22T20:00:00.000Z' });
  });

  test('the week starts again at Monday 00:00 UTC+8, the month on the 1st', async () => {
    const { windows, clock, advance } = setup(Date.UTC(2026, 6, 26, 15, 0)); // Sunday 23:00 UTC+8
    await windows.add('k', 7, clock.now());
    advance(2 * HOUR); // Monday 01:00 UTC+8
    const usage = await windows.usage('k', clock.now());
    expect(usage.map((u) => [u.window, u.requests])).toEqual([['5h', 7], ['week', 0], ['month', 7]]);
    advance(6 * 24 * HOUR); // Sunday 2026-08-02 in UTC+8: a new month
    expect((await windows.usage('k', clock.now())).map((u) => u.requests)).toEqual([0, 0, 0]);
  });

  test('concurrent flushes from many instances lose no count (atomic increments, one agreed 5-hour start)', async () => {
    const { windows, clock } = setup();
    await Promise.all(Array.from({ length: 200 }, () => windows.add('k', 1, clock.now())));
    expect((await windows.usage('k', clock.now())).map((u) => u.requests)).toEqual([200, 200, 200]);
  });

  test('keys are counted apart', async () => {
    const { windows, clock } = setup();
    await windows.add('a', 2, clock.now());
    await windows.add('b', 9, clock.now());
    expect((await windows.usage('a', clock.now()))[1]!.requests).toBe(2);
  });
});

describe('the pool shows each key’s windows on the status page', () => {
  const authority: CredentialAuthority = { obtain: async (seed) => seed.credentials, current: async (seed) => seed.credentials };

  test('per key: provider, tier, window usage against the allowance, next reset, state', async () => {
    const { store, clock, windows, advance } = setup();
    const config = loadConfig({
      QWEN_API_KEYS: JSON.stringify([
        { id: 'plan', key: 'sk-sp-aaaa', provider: 'coding-plan', region: 'intl', tier: 'pro' },
        { id: 'payg', key: 'sk-bbbb', provider: 'dashscope', region: 'us' },
      ]),
    });
    const pool = new AccountPool(config, authority, new StoreAccountLedger(store), clock, silentLogger, undefined, windows);
    for (let i = 0; i < 3; i++) pool.recordUsage('plan', 10);
    pool.recordUsage('payg', 10);
    await pool.coolDown('plan', clock.now() + 5 * HOUR, 'quota exhausted (5h window)');
    advance(1_000);
    const status = await pool.status();
    expect(status[0]).toMatchObject({
      id: 'plan',
      kind: 'api-key',
      provider: 'coding-plan-intl',
      tier: 'pro',
      state: 'cooling_down',
      cooldownUntil: '2026-07-22T15:00:00.000Z',
      windows: [
        { window: '5h', requests: 3, allowance: 6_000, resetsAt: '2026-07-22T15:00:01.000Z' },
        { window: 'week', requests: 3, allowance: 45_000 },
        { window: 'month', requests: 3, allowance: 90_000 },
      ],
    });
    expect(status[1]).toMatchObject({ id: 'payg', provider: 'dashscope-us', state: 'ok', windows: [{ window: '5h', requests: 1, allowance: null }, {}, {}] });
    expect(JSON.stringify(status)).not.toMatch(/sk-sp-aaaa|sk-bbbb/);
  });

  test("a spent 5-hour window rests the key until the window the gateway counted ends, if that is sooner", async () => {
    const { store, clock, windows, advance } = setup();
    const config = loadConfig({ QWEN_API_KEYS: JSON.stringify([{ id: 'plan', key: 'sk-sp-aaaa', provider: 'coding-plan' }, { id: 'idle', key: 'sk-sp-bbbb' }]) });
    const pool = new AccountPool(config, authority, new StoreAccountLedger(store), clock, silentLogger, undefined, windows);
    const opened = clock.now();
    pool.recordUsage('plan', 1);
    await pool.flushUsage();
    advance(3 * HOUR);
    const latest = clock.now() + 5 * HOUR;
    expect(await pool.fiveHourReset('plan', latest)).toBe(opened + 5 * HOUR);
    // No request counted: only the error's own bound is known.
    expect(await pool.fiveHourReset('idle', latest)).toBe(latest);
  });

  test('misconfigured keys: every request gets the same 503 naming the problem', async () => {
    const { store, clock } = setup();
    const pool = new AccountPool(loadConfig({ QWEN_API_KEY: 'sk-sp-aaaa', QWEN_PROVIDER: 'dashscope' }), authority, new StoreAccountLedger(store), clock, silentLogger);
    const error = await pool.pick().catch((e) => e);
    expect(error).toMatchObject({ status: 503, code: 'gateway_misconfigured' });
    expect(error.message).toMatch(/QWEN_API_KEY #1: this is a plan key/);
    expect(error.message).not.toContain('sk-sp-aaaa');
  });
});
