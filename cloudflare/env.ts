import type { QwenAccounts } from './qwen-accounts.ts';
import type { QwenResponses } from './qwen-responses.ts';

/**
 * The Worker's bindings (wrangler.toml) beside its vars and secrets, as workerd passes them, typed
 * with @cloudflare/workers-types (cloudflare/tsconfig.json). Its own file, so that the Worker entry
 * and the Durable Object both depend on it rather than on each other.
 */
export interface Env {
  QWEN_KV: KVNamespace;
  QWEN_ACCOUNTS: DurableObjectNamespace<QwenAccounts>;
  /** Stored Responses API responses; without the binding they live in the isolate's memory only. */
  QWEN_RESPONSES?: DurableObjectNamespace<QwenResponses>;
  [name: string]: unknown;
}
