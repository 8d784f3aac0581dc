import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'vitest';

export interface RedisAvailability {
  available: boolean;
  /** Why the Redis suites cannot run (when they cannot). */
  reason: string | undefined;
  /** In CI a Redis suite that cannot run is a failure, not a skip. */
  required: boolean;
}

/** The one line said when the Redis suites are skipped (tests/support/redis-global-setup.ts says it). */
export const skipLine = (reason: string) => `Upstash/Redis suites skipped: ${reason}`;

const isTrue = (value: string | undefined) => value !== undefined && !['', '0', 'false'].includes(value.toLowerCase());

/** Whether a redis-server can be used: REDIS_URL names one, or `redis-server` is on PATH. */
export function redisAvailability(env: NodeJS.ProcessEnv = process.env): RedisAvailability {
  const required = isTrue(env.CI);
  if (env.REDIS_URL) return { available: true, reason: undefined, required };
  const onPath = (env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(path.join(dir, 'redis-server'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (onPath) return { available: true, reason: undefined, required };
  return {
    available: false,
    reason: 'redis-server is not on PATH and REDIS_URL is not set (apt-get install redis-server, or set REDIS_URL, to run them)',
    required,
  };
}

/**
 * A describe block that needs a real Redis: run when there is one; otherwise skipped (the reason
 * is said once per run, by the global setup), except in CI, where it becomes one failing test.
 */
export function describeWithRedis(name: string, body: () => void): void {
  const { available, reason, required } = redisAvailability();
  if (available) describe(name, body);
  else if (required) describe(name, () => test('needs a redis-server in CI', () => void failWith(reason!)));
  else describe.skip(name, body);
}

function failWith(reason: string): never {
  throw new Error(`CI=true and ${reason}`);
}
