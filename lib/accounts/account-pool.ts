import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { GatewayError } from '../errors.ts';
import { parseQwenCliAuth } from '../credentials/parse-qwen-cli-auth.ts';
import type { CredentialAuthority } from './credential-authority.ts';
import { OAuthTokenSource } from './oauth-token-source.ts';
import type { TokenSource } from './token-source.ts';

/**
 * The configured accounts of this deployment. Parsing QWEN_CLI_AUTH happens once per isolate
 * (it hashes refresh tokens); a configuration problem is logged once and then answered to every
 * request as the same clear 503, while /health keeps working.
 */
export class AccountPool {
  #sources: Promise<TokenSource[] | GatewayError> | undefined;
  #next = 0;

  constructor(
    private readonly config: Config,
    private readonly authority: CredentialAuthority,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** All accounts, or the configuration error that prevents any. */
  sources(): Promise<TokenSource[] | GatewayError> {
    this.#sources ??= this.#build();
    return this.#sources;
  }

  /** The account for the next request: round robin over the configured accounts. */
  async pick(): Promise<TokenSource> {
    const sources = await this.sources();
    if (!Array.isArray(sources)) throw sources;
    const source = sources[this.#next++ % sources.length];
    if (!source) throw new Error('account pool is empty');
    return source;
  }

  async #build(): Promise<TokenSource[] | GatewayError> {
    const parsed = await parseQwenCliAuth(this.config.qwenCliAuth);
    if (!parsed.ok) {
      this.logger.error('Qwen credentials are not usable', { code: parsed.error.code, problem: parsed.error.message });
      return parsed.error;
    }
    this.logger.info('Qwen accounts configured', { accounts: parsed.accounts.map((a) => a.id) });
    return parsed.accounts.map(
      (seed) => new OAuthTokenSource(seed, this.authority, this.clock, this.config.openaiBaseUrl),
    );
  }
}
