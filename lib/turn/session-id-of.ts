import { stableUuid } from '../util/stable-uuid.ts';

/**
 * Qwen Code sends one sessionId for a whole conversation. A gateway sees each turn separately, so
 * a conversation is recognised by how it begins: its first two messages (in Qwen's shape, whatever
 * protocol the client spoke), which every later turn repeats. Qwen's prompt cache is keyed by
 * session, so this keeps the cache warm across turns.
 */
export function sessionIdOf(messages: readonly unknown[]): string {
  const opening = JSON.stringify(messages.slice(0, 2));
  // An opening that carries an image can be megabytes: its ends and its length identify it well enough.
  const sample = opening.length <= 65_536 ? opening : `${opening.length}:${opening.slice(0, 32_768)}${opening.slice(-32_768)}`;
  return stableUuid(sample);
}
