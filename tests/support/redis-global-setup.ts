import { redisAvailability, skipLine } from './redis-availability.ts';

/** Says once per run, not once per file, why the Redis suites are skipped. */
export default function announceRedisSkip(): void {
  const { available, reason, required } = redisAvailability();
  if (!available && !required) console.log(skipLine(reason!));
}
