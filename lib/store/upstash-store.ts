import { Redis, type RedisConfigNodejs } from '@upstash/redis';
import type { Store, StoreSetOptions } from './store.ts';

/**
 * Compare-and-delete in one step. Redis runs a script without interleaving other commands, so no
 * other instance can take the lock between our comparison and our delete.
 */
const DELETE_IF_VALUE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** PX takes whole milliseconds and rejects 0; round up so a key never expires before its TTL. */
function pxFor(ttlMs: number): number {
  if (!Number.isFinite(ttlMs)) throw new RangeError(`ttlMs must be a finite number, got ${ttlMs}`);
  return Math.max(1, Math.ceil(ttlMs));
}

/**
 * A Store over Upstash Redis (REST). SET NX PX and the Lua compare-and-delete are single Redis
 * commands, so setIfAbsent and deleteIfValue are atomic across every instance sharing the database.
 *
 * The client must be created with `automaticDeserialization: false`: by default @upstash/redis runs
 * JSON.parse on every reply, which would turn the stored string '{"a":1}' into an object and '1.0'
 * into the number 1. Values here are opaque strings and must come back byte-identical.
 */
export class UpstashStore implements Store {
  readonly name = 'upstash';
  readonly atomicSetIfAbsent = true;
  readonly #redis: Redis;

  constructor(redis: Redis) {
    // `opts` is protected in the typings; reading it is the only way to catch a client that would
    // silently reshape values, and a test pins this against the installed version.
    const opts = (redis as unknown as { opts?: { automaticDeserialization?: boolean } }).opts;
    if (opts?.automaticDeserialization !== false) {
      throw new Error(
        'UpstashStore needs a Redis client created with { automaticDeserialization: false }; ' +
          'otherwise JSON-looking or numeric-looking values would not come back as stored',
      );
    }
    this.#redis = redis;
  }

  async get(key: string): Promise<string | null> {
    const value: unknown = await this.#redis.get(key);
    if (value === null || typeof value === 'string') return value;
    throw new Error(`Upstash returned a ${typeof value} for ${key}; expected a string or null`);
  }

  async set(key: string, value: string, options?: StoreSetOptions): Promise<void> {
    const ttlMs = options?.ttlMs;
    if (ttlMs === undefined) {
      await this.#redis.set(key, value);
    } else {
      await this.#redis.set(key, value, { px: pxFor(ttlMs) });
    }
  }

  async delete(key: string): Promise<void> {
    await this.#redis.del(key);
  }

  async setIfAbsent(key: string, value: string, options?: StoreSetOptions): Promise<boolean> {
    const ttlMs = options?.ttlMs;
    const reply =
      ttlMs === undefined
        ? await this.#redis.set(key, value, { nx: true })
        : await this.#redis.set(key, value, { nx: true, px: pxFor(ttlMs) });
    // SET NX answers OK when it wrote and nil when the key already existed.
    return reply === 'OK';
  }

  async deleteIfValue(key: string, value: string): Promise<boolean> {
    const deleted = await this.#redis.eval<[string], number>(DELETE_IF_VALUE_SCRIPT, [key], [value]);
    return Number(deleted) === 1;
  }
}

function nonEmpty(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export interface UpstashStoreFromEnvOptions {
  /** Passed to the client; tests use `false` so a dead server fails at once instead of after 5 tries. */
  retry?: RedisConfigNodejs['retry'];
}

/**
 * Builds an UpstashStore from the env the caller passes (never process.env, so it works the same on
 * Cloudflare, in the Edge runtime and in tests). Reads UPSTASH_REDIS_REST_URL/_TOKEN, else the
 * KV_REST_API_URL/_TOKEN pair that Vercel's Upstash integration sets. The pairs are not mixed: a URL
 * of one database with the token of another would only fail later, on the first request.
 * Returns undefined when neither pair is complete.
 */
export function upstashStoreFromEnv(
  env: Record<string, unknown>,
  options: UpstashStoreFromEnvOptions = {},
): UpstashStore | undefined {
  const pairs: Array<[unknown, unknown]> = [
    [env.UPSTASH_REDIS_REST_URL, env.UPSTASH_REDIS_REST_TOKEN],
    [env.KV_REST_API_URL, env.KV_REST_API_TOKEN],
  ];
  for (const [rawUrl, rawToken] of pairs) {
    const url = nonEmpty(rawUrl);
    const token = nonEmpty(rawToken);
    if (url === undefined || token === undefined) continue;
    const config: RedisConfigNodejs = { url, token, automaticDeserialization: false };
    if (options.retry !== undefined) config.retry = options.retry;
    return new UpstashStore(new Redis(config));
  }
  return undefined;
}
