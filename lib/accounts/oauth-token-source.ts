import type { Clock } from '../clock.ts';
import { OAUTH_MODELS } from '../config.ts';
import type { AccountSeed } from '../credentials/qwen-credentials.ts';
import { baseUrlFromResource } from '../qwen/base-url.ts';
import { isFresh, type AccessCredentials, type CredentialAuthority } from './credential-authority.ts';
import type { TokenSource, UpstreamAccess } from './token-source.ts';

/**
 * One Qwen OAuth account as this isolate sees it. The current credentials are cached in memory, so
 * a steady-state request reads nothing from the store; only an expiring or rejected token goes to
 * the authority (which reads, refreshes and writes).
 */
export class OAuthTokenSource implements TokenSource {
  readonly kind = 'qwen-oauth' as const;
  readonly models = OAUTH_MODELS;
  readonly id: string;
  #cached: AccessCredentials | undefined;

  constructor(
    readonly seed: AccountSeed,
    private readonly authority: CredentialAuthority,
    private readonly clock: Clock,
    private readonly fallbackBaseUrl: string,
  ) {
    this.id = seed.id;
  }

  async getAccess(options: { rejected?: string } = {}): Promise<UpstreamAccess> {
    const cached = this.#cached;
    const credentials =
      cached && cached.access_token !== options.rejected && isFresh(cached, this.clock.now())
        ? cached
        : (this.#cached = await this.authority.obtain(this.seed, options.rejected));
    return {
      accountId: this.id,
      kind: this.kind,
      token: credentials.access_token,
      baseUrl: baseUrlFromResource(credentials.resource_url, this.fallbackBaseUrl),
    };
  }

  async expiresAt(): Promise<number | undefined> {
    return (this.#cached ?? (await this.authority.current(this.seed))).expiry_date;
  }
}
