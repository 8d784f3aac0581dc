import { OAUTH_MODELS, type Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { GatewayError } from '../errors.ts';
import { parseQwenCliAuth } from '../credentials/parse-qwen-cli-auth.ts';
import type { CredentialAuthority } from './credential-authority.ts';
import { OAuthTokenSource } from './oauth-token-source.ts';
import { ApiKeyTokenSource } from './api-key-token-source.ts';
import { fingerprint } from '../util/fingerprint.ts';
import type { TokenSource } from './token-source.ts';
import { nextQuotaReset, quotaDay, type AccountLedger, type AccountRecord, type UsageDelta } from './account-ledger.ts';
import type { ModelCatalog } from './model-catalog.ts';
import { PLAN_ALLOWANCES, type QuotaCounter, type WindowUsage } from './quota-windows.ts';

/** How stale this isolate's view of the shared account states may get before it re-reads them. */
const VIEW_TTL_MS = 30_000;
/** How often this isolate's usage counts are added to the shared ledger. */
const USAGE_FLUSH_MS = 10_000;

export interface AccountStatus {
  id: string;
  kind: TokenSource['kind'];
  state: AccountRecord['state'];
  reason: string | null;
  accessTokenExpiresAt: string | null;
  cooldownUntil: string | null;
  requestsToday: number;
  tokensToday: number;
  /** API keys: the provider preset (e.g. coding-plan-intl) and, when configured, the plan tier. */
  provider?: string;
  tier?: string;
  /** API keys: requests counted per plan window, against the plan's allowance where it is known. */
  windows?: WindowUsage[];
}

/**
 * The configured accounts of this deployment and which of them can serve now.
 *
 * Selection is round robin over the accounts that are ok: Qwen limits each account separately
 * (requests per minute and per day), so spreading requests evenly keeps every account furthest from
 * its limits, and an account that hits one is taken out (cooling down) rather than ranked.
 *
 * Parsing QWEN_CLI_AUTH happens once per isolate (it hashes refresh tokens); a configuration problem
 * is logged once and then answered to every request as the same clear 503, while /health keeps
 * working. The shared states are read at most every 30 s, so a steady-state request reads nothing.
 */
export class AccountPool {
  #sources: Promise<TokenSource[] | GatewayError> | undefined;
  #next = 0;
  #view: Record<string, AccountRecord> = {};
  #viewAt = Number.NEGATIVE_INFINITY;
  #usage = new Map<string, UsageDelta>();
  #usageFlushedAt: number;

  constructor(
    private readonly config: Config,
    private readonly authority: CredentialAuthority,
    private readonly ledger: AccountLedger,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly catalog?: ModelCatalog,
    private readonly quotaWindows?: QuotaCounter,
  ) {
    this.#usageFlushedAt = clock.now();
  }

  /**
   * The models this deployment serves: the operator's list when set (OPENAI_MODELS, Vercel Edge
   * Config; `config` is the request's, which may carry an overlay); else OAuth's models (with OAuth
   * accounts) and each API key's, as its provider lists them (see ModelCatalog).
   */
  async servedModels(config: Pick<Config, 'models' | 'modelsExplicit'>, clientUserAgent?: string | null): Promise<string[]> {
    const sources = await this.sources();
    if (config.modelsExplicit || !Array.isArray(sources) || !this.catalog) return config.models;
    const lists = await Promise.all(
      sources.map((s) => (s instanceof ApiKeyTokenSource ? this.catalog!.modelsOf(s, clientUserAgent) : OAUTH_MODELS)),
    );
    const served = [...new Set(lists.flatMap((list) => list ?? []))];
    return served.length > 0 ? served : config.models;
  }

  /** All accounts, or the configuration error that prevents any. */
  sources(): Promise<TokenSource[] | GatewayError> {
    this.#sources ??= this.#build();
    return this.#sources;
  }

  /**
   * The account for the next attempt, skipping those this request has tried already. In a pool that
   * mixes OAuth accounts and API keys, a model goes to the accounts that serve it.
   */
  async pick(tried: ReadonlySet<string> = new Set(), model?: string): Promise<TokenSource> {
    const all = await this.sources();
    if (!Array.isArray(all)) throw all;
    const fitting = model === undefined ? all : all.filter((s) => this.#serves(s, model));
    const sources = fitting.length > 0 ? fitting : all;
    await this.#refreshView();
    const now = this.clock.now();
    const candidates = sources.filter((s) => !tried.has(s.id) && this.#canServe(s, now));
    const source = candidates[this.#next++ % Math.max(1, candidates.length)];
    if (!source) throw this.#noneCanServe(sources, now);
    return source;
  }

  /** Qwen's quota or throttle: the account rests until `until`; other instances learn it from the ledger. */
  async coolDown(id: string, until: number, reason: string): Promise<void> {
    this.#view[id] = { ...this.#view[id], state: 'cooling_down', cooldownUntil: until, reason };
    this.logger.warn('account cooling down', { account: id, until: new Date(until).toISOString(), reason });
    await this.#share(id, { state: 'cooling_down', cooldownUntil: until, reason });
  }

  /**
   * When a key's spent 5-hour window comes back: the end of the window the gateway counted, when that
   * is sooner than `latest` (5 hours from now, what the error alone allows). Qwen does not say where
   * its window starts; the gateway's own count is the best evidence of it.
   */
  async fiveHourReset(id: string, latest: number): Promise<number> {
    const fiveHours = (await this.quotaWindows?.usage(id, this.clock.now()).catch(() => undefined))?.find((w) => w.window === '5h');
    return fiveHours && fiveHours.requests > 0 ? Math.min(latest, Date.parse(fiveHours.resetsAt)) : latest;
  }

  /** The refresh token is dead: only a new login (a new lineage) brings the account back. */
  async needsRelogin(source: TokenSource, reason: string): Promise<void> {
    const lineage = source instanceof OAuthTokenSource ? source.seed.lineage : undefined;
    this.#view[source.id] = { ...this.#view[source.id], state: 'needs_relogin', reason, ...(lineage ? { lineage } : {}) };
    await this.#share(source.id, { state: 'needs_relogin', reason, ...(lineage ? { lineage } : {}) });
  }

  /**
   * This isolate acts on a state at once (its view); other instances learn it from the ledger. A
   * ledger that cannot be written must not turn the request that found the state into a 500.
   */
  async #share(id: string, update: Parameters<AccountLedger['setState']>[1]): Promise<void> {
    try {
      await this.ledger.setState(id, update);
    } catch (error) {
      this.logger.error('could not share an account state; other instances will find it themselves', {
        account: id,
        state: update.state,
        error: String(error),
      });
    }
  }

  /**
   * Counts a served request. Returns a promise to keep alive (waitUntil) when it is time to add this
   * isolate's counts to the shared ledger, so that counting costs no store traffic per request.
   */
  recordUsage(id: string, tokens: number): Promise<void> | undefined {
    const pending = this.#usage.get(id) ?? { requests: 0, tokens: 0 };
    pending.requests += 1;
    pending.tokens += tokens;
    this.#usage.set(id, pending);
    return this.clock.now() - this.#usageFlushedAt >= USAGE_FLUSH_MS ? this.flushUsage() : undefined;
  }

  async flushUsage(): Promise<void> {
    const batch = [...this.#usage];
    this.#usage.clear();
    this.#usageFlushedAt = this.clock.now();
    const now = this.clock.now();
    const day = quotaDay(now);
    const windows = this.quotaWindows;
    const keyIds = new Set((await this.#apiKeys()).map((s) => s.id));
    await Promise.all(
      batch.flatMap(([id, delta]) => [
        this.ledger.addUsage(id, delta, day),
        ...(windows && keyIds.has(id) ? [windows.add(id, delta.requests, now)] : []),
      ]),
    ).catch((error: unknown) =>
      this.logger.warn('could not record usage', { error: String(error) }),
    );
  }

  /** For the operator's status page: per account, never a token. */
  async status(): Promise<AccountStatus[]> {
    const sources = await this.sources();
    if (!Array.isArray(sources)) throw sources;
    await this.flushUsage();
    const ids = sources.map((s) => s.id);
    const records = await this.ledger.snapshot(ids);
    this.#view = records;
    this.#viewAt = this.clock.now();
    const now = this.clock.now();
    const today = quotaDay(now);
    return Promise.all(
      sources.map(async (source) => {
        const record = records[source.id];
        const state = this.#canServe(source, now) ? 'ok' : record!.state;
        const expiresAt = await source.expiresAt?.();
        const key = source instanceof ApiKeyTokenSource ? source : undefined;
        const allowances = key ? PLAN_ALLOWANCES[key.preset.kind]?.[key.tier ?? ''] : undefined;
        return {
          id: source.id,
          kind: source.kind,
          state,
          reason: state === 'ok' ? null : record?.reason ?? null,
          accessTokenExpiresAt: expiresAt ? new Date(expiresAt).toISOString() : null,
          cooldownUntil: state === 'cooling_down' && record?.cooldownUntil ? new Date(record.cooldownUntil).toISOString() : null,
          requestsToday: record?.day === today ? record.requestsToday ?? 0 : 0,
          tokensToday: record?.day === today ? record.tokensToday ?? 0 : 0,
          ...(key
            ? {
                provider: key.preset.name,
                ...(key.tier ? { tier: key.tier } : {}),
                ...(this.quotaWindows ? { windows: await this.quotaWindows.usage(key.id, now, allowances) } : {}),
              }
            : {}),
        };
      }),
    );
  }

  #serves(source: TokenSource, model: string): boolean {
    const models = source instanceof ApiKeyTokenSource && this.catalog ? this.catalog.known(source) : source.models;
    return !models || models.includes(model);
  }

  #canServe(source: TokenSource, now: number): boolean {
    const record = this.#view[source.id];
    if (!record || record.state === 'ok') return true;
    if (record.state === 'cooling_down') return (record.cooldownUntil ?? 0) <= now;
    // needs_relogin holds for the lineage that failed; a newly deployed login serves again.
    return source instanceof OAuthTokenSource && record.lineage !== undefined && record.lineage !== source.seed.lineage;
  }

  async #refreshView(): Promise<void> {
    if (this.clock.now() - this.#viewAt < VIEW_TTL_MS) return;
    const sources = await this.sources();
    if (!Array.isArray(sources)) return;
    try {
      this.#view = { ...(await this.ledger.snapshot(sources.map((s) => s.id))) };
    } catch (error) {
      // Serving on a stale view beats failing the request: Qwen itself still enforces its limits.
      this.logger.warn('could not read account states', { error: String(error) });
    }
    this.#viewAt = this.clock.now();
  }

  #noneCanServe(sources: TokenSource[], now: number): GatewayError {
    const cooling = sources
      .map((s) => ({ id: s.id, record: this.#view[s.id] }))
      .filter(({ record }) => record?.state === 'cooling_down' && (record.cooldownUntil ?? 0) > now);
    if (cooling.length > 0) {
      const soonest = Math.min(...cooling.map(({ record }) => record!.cooldownUntil!));
      const seconds = Math.max(1, Math.ceil((soonest - now) / 1000));
      // Resting for the quota (until the quota day ends) keeps Qwen's own code, the one the first
      // request got: clients tell "out of quota" from "slow down" by it.
      const quota = cooling.every(({ record }) => isQuotaRest(record!, now));
      return new GatewayError({
        status: 429,
        type: quota ? 'insufficient_quota' : 'rate_limit_error',
        code: quota ? 'insufficient_quota' : 'all_accounts_cooling_down',
        message:
          `Every Qwen account is resting: ${cooling.map(({ id, record }) => `${id} (${record!.reason ?? 'throttled'}) until ${new Date(record!.cooldownUntil!).toISOString()}`).join('; ')}. ` +
          `Retry after ${seconds} s.`,
        headers: { 'retry-after': String(seconds) },
      });
    }
    return new GatewayError({
      status: 503,
      type: 'server_error',
      code: 'qwen_credentials_invalid',
      message:
        `Every Qwen account needs a new login (${sources.map((s) => s.id).join(', ')}): their refresh tokens were used already or revoked. ` +
        'Sign in again (`npm run login`) and deploy the new credentials as QWEN_CLI_AUTH.',
      headers: { 'x-should-retry': 'false' },
    });
  }

  async #apiKeys(): Promise<ApiKeyTokenSource[]> {
    const sources = await this.sources();
    return Array.isArray(sources) ? sources.filter((s): s is ApiKeyTokenSource => s instanceof ApiKeyTokenSource) : [];
  }

  async #build(): Promise<TokenSource[] | GatewayError> {
    const { qwenCliAuth, qwenKeys, qwenKeyProblems, openaiBaseUrl } = this.config;
    // Already logged once, with every other configuration problem, where the deps were built.
    if (qwenKeyProblems.length > 0) {
      return new GatewayError({
        status: 503,
        type: 'server_error',
        code: 'gateway_misconfigured',
        message: `The gateway's Qwen API keys are misconfigured: ${qwenKeyProblems.join(' ')}`,
        headers: { 'x-should-retry': 'false' },
      });
    }
    const sources: TokenSource[] = [];
    // With only API keys configured, a missing QWEN_CLI_AUTH is no problem; a malformed one always is.
    if (qwenCliAuth !== undefined || qwenKeys.length === 0) {
      const parsed = await parseQwenCliAuth(qwenCliAuth);
      if (!parsed.ok) {
        this.logger.error('Qwen credentials are not usable', { code: parsed.error.code, problem: parsed.error.message });
        return parsed.error;
      }
      for (const seed of parsed.accounts) sources.push(new OAuthTokenSource(seed, this.authority, this.clock, openaiBaseUrl));
    }
    for (const spec of qwenKeys) {
      // Behind a custom URL (a proxy) any model may be served; on a preset, route only its own.
      const models = spec.customBaseUrl ? undefined : spec.preset.models;
      const id = spec.id ?? `k${await fingerprint(spec.key)}`;
      sources.push(new ApiKeyTokenSource(id, spec.key, spec.baseUrl, models, spec.preset, spec.tier));
    }
    this.logger.info('Qwen accounts configured', { accounts: sources.map((s) => `${s.id} (${s.kind})`) });
    return sources;
  }
}

/** A cooldown that lasts until Qwen's quota day ends is a quota rest, not a throttle. */
function isQuotaRest(record: AccountRecord, now: number): boolean {
  return (record.reason ?? '').startsWith('quota') || (record.cooldownUntil ?? 0) >= nextQuotaReset(now);
}
