import type { Store } from '../../lib/store/store.ts';

export type StoreOp = Exclude<keyof Store, 'name' | 'atomicSetIfAbsent'>;
const OPS: StoreOp[] = ['get', 'set', 'delete', 'setIfAbsent', 'deleteIfValue', 'extendIfValue', 'incrementFields', 'getFields'];

/**
 * A Store that passes every call to `inner` unless `fault` says otherwise: return a promise to answer
 * in its place (throw or reject to inject a failure), or undefined to let the call through.
 * `calls` counts what reached the wrapper, by operation.
 */
export function faultyStore(
  inner: Store,
  fault: (op: StoreOp, args: unknown[]) => Promise<unknown> | undefined,
  overrides: Partial<Pick<Store, 'name' | 'atomicSetIfAbsent'>> = {},
): Store & { calls: Record<StoreOp, number> } {
  const calls = Object.fromEntries(OPS.map((op) => [op, 0])) as Record<StoreOp, number>;
  const wrapped: Record<string, unknown> = { name: overrides.name ?? inner.name, atomicSetIfAbsent: overrides.atomicSetIfAbsent ?? inner.atomicSetIfAbsent, calls };
  for (const op of OPS) {
    wrapped[op] = (...args: unknown[]) => {
      calls[op]++;
      return fault(op, args) ?? (inner[op] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  return wrapped as unknown as Store & { calls: Record<StoreOp, number> };
}

export const storeDown = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379 (injected)'));
