import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll } from 'vitest';
import type { Store } from '../../lib/store/store.ts';
import { defineStoreContract } from './store-contract.ts';

// The contract against Durable Object storage in workerd: the store runs inside a real object and
// the suite drives it over RPC, each call one event of the object (as the gateway's calls are).
let mf: Miniflare;
let object: Record<keyof Store, (...args: unknown[]) => Promise<unknown>>;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: ['tests/store/durable-object/store-object.ts'],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    external: ['cloudflare:workers'],
    write: false,
  });
  mf = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]!.text,
    compatibilityDate: '2026-04-20',
    durableObjects: { STORE: { className: 'StoreObject', useSQLite: true } },
  });
  const namespace = await mf.getDurableObjectNamespace('STORE');
  object = namespace.get(namespace.idFromName('contract')) as unknown as typeof object;
});

afterAll(async () => {
  await mf?.dispose();
});

defineStoreContract(
  'durable-object (Miniflare)',
  async () => ({
    store: {
      name: 'durable-object',
      atomicSetIfAbsent: true,
      get: (key) => object.get(key) as Promise<string | null>,
      set: (key, value, options) => object.set(key, value, options?.ttlMs) as Promise<void>,
      delete: (key) => object.delete(key) as Promise<void>,
      setIfAbsent: (key, value, options) => object.setIfAbsent(key, value, options?.ttlMs) as Promise<boolean>,
      deleteIfValue: (key, value) => object.deleteIfValue(key, value) as Promise<boolean>,
      extendIfValue: (key, value, ttlMs) => object.extendIfValue(key, value, ttlMs) as Promise<boolean>,
      incrementFields: (key, deltas, options) => object.incrementFields(key, deltas, options?.ttlMs) as Promise<Record<string, number>>,
      getFields: (key) => object.getFields(key) as Promise<Record<string, number>>,
    },
    cleanup: async () => {},
  }),
  { expiry: { kind: 'real-time', timeoutMs: 5_000 } },
);
