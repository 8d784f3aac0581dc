import { createDeps } from '../lib/create-deps.ts';
import type { Deps } from '../lib/deps.ts';
import { handle } from '../lib/handle.ts';
import { systemClock } from '../lib/clock.ts';
import { KvStore } from '../lib/store/kv-store.ts';
import { DurableObjectAccounts } from './durable-object-accounts.ts';
import type { Env } from './env.ts';

export { QwenAccounts } from './qwen-accounts.ts';

// One set of deps per isolate (and per env object): the in-memory token cache lives there, which is
// what lets a steady-state request run without reading KV or calling the Durable Object.
const perEnv = new WeakMap<Env, Omit<Deps, 'waitUntil'>>();

function depsFor(env: Env): Omit<Deps, 'waitUntil'> {
  let deps = perEnv.get(env);
  if (!deps) {
    const store = new KvStore(env.QWEN_KV);
    const accounts = new DurableObjectAccounts(env.QWEN_ACCOUNTS, store, systemClock);
    deps = createDeps({ env, store, authority: accounts, ledger: accounts, quotaWindows: accounts });
    perEnv.set(env, deps);
  }
  return deps;
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    return handle(request, { ...depsFor(env), waitUntil: (promise) => ctx.waitUntil(promise) });
  },
};
