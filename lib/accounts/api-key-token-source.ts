import { GatewayError } from '../errors.ts';
import type { TokenSource, UpstreamAccess } from './token-source.ts';

/**
 * A Qwen API key (DashScope, Coding Plan, ModelScope). Nothing to refresh: when Qwen rejects the
 * key, only the operator can replace it, and the account is taken out of rotation.
 */
export class ApiKeyTokenSource implements TokenSource {
  readonly kind = 'api-key' as const;

  constructor(
    readonly id: string,
    private readonly key: string,
    private readonly baseUrl: string,
    readonly models?: readonly string[],
  ) {}

  async getAccess(options: { rejected?: string } = {}): Promise<UpstreamAccess> {
    if (options.rejected === this.key) {
      throw new GatewayError({
        status: 503,
        type: 'server_error',
        code: 'qwen_credentials_rejected',
        failure: { kind: 'credentials' },
        message: `Qwen rejected the API key of account ${this.id} (${this.baseUrl}). Check QWEN_API_KEY and QWEN_PROVIDER / OPENAI_BASE_URL.`,
        headers: { 'x-should-retry': 'false' },
      });
    }
    return { accountId: this.id, kind: this.kind, token: this.key, baseUrl: this.baseUrl };
  }
}
