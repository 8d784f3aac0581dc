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

/** Lease extension: a new TTL only while the key still holds the caller's value. */
const EXTEND_IF_VALUE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/**
 * HINCRBY per field, then the TTL, then the whole record, as one script: no other command runs in
 * between, so the answer is the record as this increment left it. ARGV: field, delta, ..., ttl ms (0 = none).
 */
const INCREMENT_FIELDS_SCRIPT = `for i = 1, #ARGV - 1, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
local ttl = tonumber(ARGV[#ARGV])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return redis.call('HGETALL', KEYS[1])`;

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

  async extendIfValue(key: string, value: string, ttlMs: number): Promise<boolean> {
    const extended = await this.#redis.eval<[string, string], number>(EXTEND_IF_VALUE_SCRIPT, [key], [value, String(pxFor(ttlMs))]);
    return Number(extended) === 1;
  }

  async incrementFields(key: string, deltas: Record<string, number>, options?: StoreSetOptions): Promise<Record<string, number>> {
    const args: string[] = [];
    for (const [name, delta] of Object.entries(deltas)) {
      if (!Number.isSafeInteger(delta)) throw new RangeError(`counter delta for ${name} must be a safe integer, got ${delta}`);
      args.push(name, String(delta));
    }
    args.push(String(options?.ttlMs === undefined ? 0 : pxFor(options.ttlMs)));
    return countersFrom(await this.#redis.eval<string[], unknown>(INCREMENT_FIELDS_SCRIPT, [key], args));
  }

  async getFields(key: string): Promise<Record<string, number>> {
    return countersFrom(await this.#redis.hgetall(key));
  }
}

/** HGETALL's answer (a flat [field, value, ...] list without deserialization) as numbers. */
function countersFrom(reply: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  const pairs: Array<[unknown, unknown]> = [];
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i], reply[i + 1]]);
  else if (reply && typeof reply === 'object') pairs.push(...Object.entries(reply));
  for (const [name, value] of pairs) {
    const n = Number(value);
    // defineProperty: a field named __proto__ must stay a field.
    if (typeof name === 'string' && Number.isFinite(n)) Object.defineProperty(out, name, { value: n, enumerable: true, writable: true, configurable: true });
  }
  return out;
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
