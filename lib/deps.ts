import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { Store } from './store/store.ts';
import type { AccountPool } from './accounts/account-pool.ts';
import type { InFlightRequests } from './http/in-flight-requests.ts';
import type { ResponseStore } from './responses/response-store.ts';

/**
 * Everything a handler needs from the outside world. A runtime entry (cloudflare/, api/) builds it
 * once per isolate; handlers are `(request, deps) => Promise<Response>`.
 */
export interface Deps {
  config: Config;
  store: Store;
  clock: Clock;
  fetch: typeof fetch;
  logger: Logger;
  /** Where upstream credentials come from; holds the isolate's in-memory token cache. */
  accounts: AccountPool;
  /** Stored Responses API responses (a Durable Object on Cloudflare, the store elsewhere). */
  responses: ResponseStore;
  /** Keeps background work (log flushes, store writes) alive after the response on hosts that allow it. */
  waitUntil: (promise: Promise<unknown>) => void;
  startedAt: number;
  /** This isolate's requests in flight: a refresh that outlives its request stays alive through them. */
  inFlight?: InFlightRequests;
}
