import { systemClock, type Clock } from '../lib/clock.ts';
import { loadConfig, type Config, type Env } from '../lib/config.ts';
import { createDeps } from '../lib/create-deps.ts';
import type { Deps } from '../lib/deps.ts';
import { createConsoleLogger, type Logger } from '../lib/logger.ts';
import { MemoryStore } from '../lib/store/memory-store.ts';
import type { Store } from '../lib/store/store.ts';
import { upstashStoreFromEnv } from '../lib/store/upstash-store.ts';
import { createEdgeConfigSource, type EdgeConfigSource } from './edge-config-source.ts';

/** The second argument Vercel passes to an Edge Function (`RequestContext` in `@vercel/edge`). */
export interface VercelRequestContext {
  waitUntil?(promise: Promise<unknown>): void;
}

/** What an api/ entry holds per isolate: `depsFor(ctx)` gives the deps one request runs with. */
export interface VercelGateway {
  depsFor(ctx?: VercelRequestContext): Promise<Deps>;
}

export interface CreateVercelDepsOptions {
  clock?: Clock;
  logger?: Logger;
  /** Replaces the client built from EDGE_CONFIG (tests). */
  edgeConfig?: EdgeConfigSource;
  edgeConfigTtlMs?: number;
}

/** Under Vercel's 25 s limit to start a response, with room for the function's own start. */
export const VERCEL_RESPONSE_START_MS = 20_000;

/** How long one Edge Config read is used before the next request reads it again. */
export const EDGE_CONFIG_TTL_MS = 10_000;
const EDGE_CONFIG_KEYS = ['apiKeys', 'models', 'defaultModel'];

/**
 * The environment of this Vercel function. This is the one place the Vercel build reads
 * `process.env`; the guard keeps the module loadable where `process` does not exist at all.
 */
export function vercelProcessEnv(): Env {
  return typeof process !== 'undefined' && process.env ? { ...process.env } : {};
}

/**
 * The Vercel composition root, the twin of cloudflare/worker.ts: built once per isolate.
 *
 * createDeps runs once, so the AccountPool and its in-memory token cache survive across requests.
 * Edge Config can change the client keys and the model list between requests, though; rather than
 * mutate the shared deps (a request in flight would see its settings change under it), each
 * request gets a shallow copy whose `config` is the current overlay. The overlay object itself is
 * rebuilt only when Edge Config is read, at most once per EDGE_CONFIG_TTL_MS. The fields Edge
 * Config may change are not ones the AccountPool reads, so its copy of the env config stays right.
 */
export function createVercelDeps(env: Env = vercelProcessEnv(), options: CreateVercelDepsOptions = {}): VercelGateway {
  // Vercel ends an Edge Function that has not started its response within 25 s; a long
  // non-streaming answer commits to 200 before that (see json-within-deadline.ts).
  const base = loadConfig({ RESPONSE_START_TIMEOUT_MS: String(VERCEL_RESPONSE_START_MS), ...env });
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createConsoleLogger(base.logLevel);
  const deps = createDeps({ env, store: storeFromEnv(env, logger), config: base, clock, logger });
  const edgeConfig =
    options.edgeConfig ?? createEdgeConfigSource(typeof env.EDGE_CONFIG === 'string' ? env.EDGE_CONFIG : undefined);
  const currentConfig = edgeConfig
    ? edgeConfigOverlay(base, edgeConfig, { clock, logger, ttlMs: options.edgeConfigTtlMs ?? EDGE_CONFIG_TTL_MS })
    : async () => base;

  // Without a host waitUntil the promise simply runs on; its failure must not become an
  // unhandled rejection.
  const runOn = (promise: Promise<unknown>) => {
    promise.catch((error: unknown) => logger.warn('background task failed', { error: String(error) }));
  };

  return {
    async depsFor(ctx) {
      const config = await currentConfig();
      const waitUntil = ctx?.waitUntil ? (promise: Promise<unknown>) => ctx.waitUntil!(promise) : runOn;
      return { ...deps, config, waitUntil };
    },
  };
}

/** Upstash when configured (shared by every isolate); else memory, which a cold start forgets. */
function storeFromEnv(env: Env, logger: Logger): Store {
  const upstash = upstashStoreFromEnv(env);
  if (upstash) return upstash;
  logger.warn(
    'No Redis configured (UPSTASH_REDIS_REST_URL/TOKEN or KV_REST_API_URL/TOKEN): using memory; ' +
      'refreshed Qwen tokens will not survive a cold start, and instances will not share them',
  );
  return new MemoryStore();
}

/**
 * The current config: `base` with Edge Config's items on top, read at most once per `ttlMs`.
 * The first request waits for the first read (answering it with env keys could let in a key Edge
 * Config has already replaced); concurrent requests share one read. A failed read is logged and
 * the settings in use stay: env values before any good read, the last good read after one, so a
 * transient Edge Config outage neither reopens nor re-keys the gateway.
 */
function edgeConfigOverlay(
  base: Config,
  source: EdgeConfigSource,
  { clock, logger, ttlMs }: { clock: Clock; logger: Logger; ttlMs: number },
): () => Promise<Config> {
  let current = base;
  let readAt = -Infinity;
  let reading: Promise<Config> | undefined;
  let lastProblems = '';

  const read = async (): Promise<Config> => {
    try {
      const items = await source.getAll(EDGE_CONFIG_KEYS);
      const { config, problems } = overlayConfig(base, items);
      // Said once per change, not on every read.
      const said = problems.join('; ');
      if (said && said !== lastProblems) logger.warn('Edge Config items ignored', { problems });
      lastProblems = said;
      current = config;
    } catch (error) {
      logger.warn('Edge Config read failed; keeping the settings in use', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    readAt = clock.now();
    return current;
  };

  return () => {
    if (clock.now() - readAt < ttlMs) return Promise.resolve(current);
    reading ??= read().finally(() => (reading = undefined));
    return reading;
  };
}

/**
 * Edge Config's `apiKeys` (string array or comma-separated string), `models` (likewise) and
 * `defaultModel` (string) over the env's OPENAI_API_KEY, OPENAI_MODELS and OPENAI_MODEL. An item of
 * the wrong type, or an empty list, is ignored with a reason: an empty `apiKeys` would otherwise
 * open the gateway to everyone, which only removing OPENAI_API_KEY should do.
 */
export function overlayConfig(base: Config, items: Record<string, unknown>): { config: Config; problems: string[] } {
  const config = { ...base };
  const problems: string[] = [];
  const list = (name: string): string[] | undefined => {
    const value = items[name];
    if (value === undefined || value === null) return undefined;
    const raw = typeof value === 'string' ? value.split(',') : value;
    if (!Array.isArray(raw) || !raw.every((v) => typeof v === 'string')) {
      problems.push(`${name} must be an array of strings or a comma-separated string`);
      return undefined;
    }
    const entries = raw.map((v) => v.trim()).filter(Boolean);
    if (entries.length === 0) problems.push(`${name} is empty`);
    return entries.length > 0 ? entries : undefined;
  };
  config.apiKeys = list('apiKeys') ?? base.apiKeys;
  const models = list('models');
  config.models = models ?? base.models;
  // Models named in Edge Config are the operator's list, as OPENAI_MODELS would be: no discovery.
  if (models) config.modelsExplicit = true;
  const defaultModel = items.defaultModel;
  if (typeof defaultModel === 'string' && defaultModel.trim() !== '') config.defaultModel = defaultModel.trim();
  else if (defaultModel !== undefined && defaultModel !== null) problems.push('defaultModel must be a non-empty string');
  return { config, problems };
}
