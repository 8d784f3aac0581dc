import { deadCredentials } from '../errors.ts';
import type { ProviderPreset } from '../qwen/providers.ts';
import type { TokenSource, UpstreamAccess } from './token-source.ts';

/**
 * A Qwen API key (Coding Plan, Token Plan, DashScope, ModelScope). Nothing to refresh: when Qwen
 * rejects the key, only the operator can replace it, and the account is taken out of rotation.
 */
export class ApiKeyTokenSource implements TokenSource {
  readonly kind = 'api-key' as const;

  constructor(
    readonly id: string,
    private readonly key: string,
    readonly baseUrl: string,
    /** The built-in models of its preset; undefined when the operator's base URL serves anything. */
    readonly models: readonly string[] | undefined,
    readonly preset: ProviderPreset,
    /** Coding Plan tier (lite, pro) when configured, for the allowances on the status page. */
    readonly tier?: string,
  ) {}

  async getAccess(options: { rejected?: string } = {}): Promise<UpstreamAccess> {
    if (options.rejected === this.key) {
      throw deadCredentials(
        'qwen_credentials_rejected',
        `Qwen rejected the API key of account ${this.id} (${this.preset.name}, ${this.baseUrl}). Check that the key belongs to that provider and region (QWEN_API_KEYS / QWEN_PROVIDER).`,
      );
    }
    return { accountId: this.id, kind: this.kind, token: this.key, baseUrl: this.baseUrl, forwardUserAgent: this.preset.plan };
  }
}
