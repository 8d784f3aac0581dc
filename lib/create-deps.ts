import { systemClock, type Clock } from './clock.ts';
import { loadConfig, type Config, type Env } from './config.ts';
import type { Deps } from './deps.ts';
import { InFlightRequests } from './http/in-flight-requests.ts';
import { createConsoleLogger, type Logger } from './logger.ts';
import type { Store } from './store/store.ts';
import { AccountPool } from './accounts/account-pool.ts';
import { StoreCredentialAuthority, type CredentialAuthority } from './accounts/credential-authority.ts';
import { StoreAccountLedger, type AccountLedger } from './accounts/account-ledger.ts';
import { ModelCatalog } from './accounts/model-catalog.ts';
import { QuotaWindows, type QuotaCounter } from './accounts/quota-windows.ts';
import { StoreResponseStore, type ResponseStore } from './responses/response-store.ts';

export interface CreateDepsOptions {
  env: Env;
  store: Store;
  /** Settings that override env (e.g. from Vercel Edge Config). */
  config?: Config;
  fetch?: typeof fetch;
  clock?: Clock;
  logger?: Logger;
  /** Where refreshes are coordinated; defaults to the store (a Durable Object on Cloudflare). */
  authority?: CredentialAuthority;
  /** Where account states and counts are shared; defaults to the store (a Durable Object on Cloudflare). */
  ledger?: AccountLedger;
  /** Where API keys' requests per plan window are counted; defaults to the store. */
  quotaWindows?: QuotaCounter;
  /** Where stored responses live; defaults to the store (a Durable Object on Cloudflare). */
  responses?: ResponseStore;
}

/**
 * The composition root shared by every host: a host entry passes its env and store, once per
 * isolate, and gets the deps its requests run with (the isolate's token cache lives in them).
 */
export function createDeps(options: CreateDepsOptions): Omit<Deps, 'waitUntil'> {
  const config = options.config ?? loadConfig(options.env);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createConsoleLogger(config.logLevel);
  // Said once per isolate, here; each request it affects then answers 503 gateway_misconfigured.
  if (config.problems.length > 0) {
    logger.error('gateway misconfigured', { problems: config.problems.map((p) => p.message) });
  }
  // Bound to globalThis: calling an unbound `fetch` throws "Illegal invocation" in workerd.
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const inFlight = new InFlightRequests();
  const authority =
    options.authority ??
    new StoreCredentialAuthority({
      store: options.store,
      fetch: fetchFn,
      clock,
      logger,
      oauthBaseUrl: config.oauthBaseUrl,
      keepAlive: (work) => inFlight.keep(work),
    });
  return {
    config,
    store: options.store,
    clock,
    fetch: fetchFn,
    logger,
    accounts: new AccountPool(
      config,
      authority,
      options.ledger ?? new StoreAccountLedger(options.store, clock),
      clock,
      logger,
      new ModelCatalog(fetchFn, options.store, clock, logger),
      options.quotaWindows ?? new QuotaWindows(options.store),
    ),
    responses: options.responses ?? new StoreResponseStore(options.store),
    startedAt: clock.now(),
    inFlight,
  };
}
