import { systemClock, type Clock } from './clock.ts';
import { loadConfig, type Config, type Env } from './config.ts';
import type { Deps } from './deps.ts';
import { createConsoleLogger, type Logger } from './logger.ts';
import type { Store } from './store/store.ts';
import { AccountPool } from './accounts/account-pool.ts';
import { StoreCredentialAuthority, type CredentialAuthority } from './accounts/credential-authority.ts';
import { StoreAccountLedger, type AccountLedger } from './accounts/account-ledger.ts';
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
  // Bound to globalThis: calling an unbound `fetch` throws "Illegal invocation" in workerd.
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const authority =
    options.authority ??
    new StoreCredentialAuthority({ store: options.store, fetch: fetchFn, clock, logger, oauthBaseUrl: config.oauthBaseUrl });
  return {
    config,
    store: options.store,
    clock,
    fetch: fetchFn,
    logger,
    accounts: new AccountPool(config, authority, options.ledger ?? new StoreAccountLedger(options.store), clock, logger),
    responses: options.responses ?? new StoreResponseStore(options.store),
    startedAt: clock.now(),
  };
}
