import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { qwenHeaders } from '../qwen/build-qwen-request.ts';
import type { ApiKeyTokenSource } from './api-key-token-source.ts';

/** New models appear on the plans every few weeks; asking once an hour keeps up without cost. */
export const MODEL_LIST_TTL_MS = 3_600_000;
/** Discovery runs on a client's request path: a slow provider must not hold it up for long. */
const DISCOVERY_TIMEOUT_MS = 5_000;

interface Listed {
  /** The provider's list; null when it has none (or failed), and the built-in table applies. */
  models: string[] | null;
  at: number;
}

/**
 * The models each API key serves, from its provider's `GET /models` (OpenAI's list shape), asked at
 * most hourly and shared through the store, so that new model ids work without a redeploy (hard-coded
 * lists going stale is a standing complaint, clients-and-qwen §7.9). When a provider has no list, or
 * answers anything but one, the preset's built-in table is used for the hour.
 */
export class ModelCatalog {
  #memory = new Map<string, Listed>();
  #pending = new Map<string, Promise<Listed>>();

  constructor(
    private readonly fetch: typeof globalThis.fetch,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** What this isolate knows already, without asking anyone (for routing in the account loop). */
  known(source: ApiKeyTokenSource): readonly string[] | undefined {
    return this.#memory.get(source.id)?.models ?? source.models;
  }

  /** The models `source` serves: discovered when the provider lists them, else its built-in table. */
  async modelsOf(source: ApiKeyTokenSource, clientUserAgent?: string | null): Promise<readonly string[] | undefined> {
    const cached = this.#memory.get(source.id);
    if (cached && this.clock.now() - cached.at < MODEL_LIST_TTL_MS) return cached.models ?? source.models;
    let pending = this.#pending.get(source.id);
    if (!pending) {
      pending = this.#load(source, clientUserAgent).finally(() => this.#pending.delete(source.id));
      this.#pending.set(source.id, pending);
    }
    const listed = await pending;
    this.#memory.set(source.id, listed);
    return listed.models ?? source.models;
  }

  async #load(source: ApiKeyTokenSource, clientUserAgent: string | null | undefined): Promise<Listed> {
    const key = `qwen:models:${source.id}`;
    const stored = await this.store.get(key).catch(() => null);
    if (stored) {
      try {
        const parsed = JSON.parse(stored) as Listed;
        if (this.clock.now() - parsed.at < MODEL_LIST_TTL_MS) return parsed;
      } catch {
        // rewritten below
      }
    }
    const listed: Listed = { models: await this.#ask(source, clientUserAgent), at: this.clock.now() };
    await this.store.set(key, JSON.stringify(listed), { ttlMs: MODEL_LIST_TTL_MS }).catch((error: unknown) =>
      this.logger.warn('could not store the model list', { account: source.id, error: String(error) }),
    );
    return listed;
  }

  async #ask(source: ApiKeyTokenSource, clientUserAgent: string | null | undefined): Promise<string[] | null> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort('model discovery timeout'), DISCOVERY_TIMEOUT_MS);
    try {
      const access = await source.getAccess();
      const response = await this.fetch(`${source.baseUrl}/models`, { headers: qwenHeaders(access, false, clientUserAgent), signal: abort.signal });
      const body: unknown = response.ok ? await response.json() : undefined;
      if (!response.ok) await response.body?.cancel();
      const data = (body as { data?: unknown } | undefined)?.data;
      const ids = Array.isArray(data) ? data.map((m) => (m as { id?: unknown })?.id).filter((id): id is string => typeof id === 'string' && id !== '') : [];
      if (ids.length > 0) return [...new Set(ids)];
      this.logger.info('provider has no model list; using the built-in one', { account: source.id, status: response.status });
      return null;
    } catch (error) {
      this.logger.warn('model discovery failed; using the built-in list', { account: source.id, error: String(error) });
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
