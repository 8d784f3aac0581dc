import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithRedis } from '../support/redis-availability.ts';
import { StoreAccountLedger, quotaDay } from '../../lib/accounts/account-ledger.ts';
import { upstashStoreFromEnv } from '../../lib/store/upstash-store.ts';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.ts';
import { startUpstashRestServer, type UpstashRestServer } from '../support/upstash-rest-server.ts';

/**
 * A usage flush must never undo a state change made meanwhile by another instance: 200 accounts,
 * each flushed by one instance while another marks it needs_relogin, over real Upstash (the real
 * @upstash/redis client, the REST stand-in, a real redis-server).
 */
describeWithRedis('usage flushes against state changes over real Upstash', () => {
  let redis: RedisServerHandle;
  let rest: UpstashRestServer;
  beforeAll(async () => {
    redis = await startRedisServer();
    rest = await startUpstashRestServer(redis.url);
  });
  afterAll(async () => {
    await rest?.close();
    await redis?.stop();
  });

  test('200 concurrent usage flushes interleaved with state changes: no state and no count lost', async () => {
    const env = { UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token };
    // Two instances, each with its own client, as two isolates would have.
    const flusher = new StoreAccountLedger(upstashStoreFromEnv(env, { retry: false })!);
    const guard = new StoreAccountLedger(upstashStoreFromEnv(env, { retry: false })!);
    const day = quotaDay(Date.now());
    const ids = Array.from({ length: 200 }, (_, i) => `flush-${Date.now()}-${i}`);
    // Every account has counted before, so each flush is an update of an existing record.
    await Promise.all(ids.map((id) => flusher.addUsage(id, { requests: 1, tokens: 5 }, day)));

    await Promise.all(
      ids.flatMap((id, i) => {
        const flush = () => flusher.addUsage(id, { requests: 2, tokens: 20 }, day);
        const relogin = () => guard.setState(id, { state: 'needs_relogin', reason: 'test', lineage: 'L' });
        // Alternate who starts first so reads and writes interleave both ways.
        return i % 2 ? [flush(), relogin(), flush()] : [relogin(), flush(), flush()];
      }),
    );

    const records = await guard.snapshot(ids);
    const lostStates = ids.filter((id) => records[id]?.state !== 'needs_relogin');
    const lostCounts = ids.filter((id) => records[id]?.requestsToday !== 5 || records[id]?.tokensToday !== 45);
    console.log(`usage flush vs state: ${ids.length} accounts, ${ids.length * 2} flushes, ${ids.length} state changes, ${lostStates.length} states lost, ${lostCounts.length} counts wrong`);
    expect(lostStates).toEqual([]);
    expect(lostCounts).toEqual([]);
  });
});
