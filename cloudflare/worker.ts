import { createDeps } from '../lib/create-deps.ts';
import type { Deps } from '../lib/deps.ts';
import { handle } from '../lib/handle.ts';
import { systemClock } from '../lib/clock.ts';
import { KvStore } from '../lib/store/kv-store.ts';
import { DurableObjectAccounts } from './durable-object-accounts.ts';
import type { Env } from './env.ts';
import { DurableObjectResponses } from './durable-object-responses.ts';
import { StoreResponseStore } from '../lib/responses/response-store.ts';
import { MemoryStore } from '../lib/store/memory-store.ts';

export { QwenAccounts } from './qwen-accounts.ts';
export { QwenResponses } from './qwen-responses.ts';

// One set of deps per isolate (and per env object): the in-memory token cache lives there, which is
// what lets a steady-state request run without reading KV or calling the Durable Object.
const perEnv = new WeakMap<Env, Omit<Deps, 'waitUntil'>>();

function depsFor(env: Env): Omit<Deps, 'waitUntil'> {
  let deps = perEnv.get(env);
  if (!deps) {
    const store = new KvStore(env.QWEN_KV);
    const accounts = new DurableObjectAccounts(env.QWEN_ACCOUNTS, store, systemClock);
    // Never KV: its free plan allows 1,000 writes a day.
    const responses = env.QWEN_RESPONSES ? new DurableObjectResponses(env.QWEN_RESPONSES) : new StoreResponseStore(new MemoryStore());
    deps = createDeps({ env, store, authority: accounts, ledger: accounts, quotaWindows: accounts, responses });
    perEnv.set(env, deps);
  }
  return deps;
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    return handle(request, { ...depsFor(env), waitUntil: (promise) => ctx.waitUntil(promise) });
  },
};
