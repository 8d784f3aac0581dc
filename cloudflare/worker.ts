import { createDeps } from '../lib/create-deps.ts';
import type { Deps } from '../lib/deps.ts';
import { handle } from '../lib/handle.ts';
import { KvStore, type KvNamespaceLike } from '../lib/store/kv-store.ts';

export interface Env {
  QWEN_KV: KvNamespaceLike;
  [name: string]: unknown;
}

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

// One set of deps per isolate (and per env object): the in-memory token cache lives there, which is
// what lets a steady-state request run without reading KV.
const perEnv = new WeakMap<Env, Omit<Deps, 'waitUntil'>>();

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let deps = perEnv.get(env);
    if (!deps) {
      deps = createDeps({ env, store: new KvStore(env.QWEN_KV) });
      perEnv.set(env, deps);
    }
    return handle(request, { ...deps, waitUntil: (promise) => ctx.waitUntil(promise) });
  },
};
