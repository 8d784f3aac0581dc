/**
 * "Where a token comes from", behind one small interface: Qwen OAuth credentials (refreshed and
 * rotated) today, plain Qwen API keys (DashScope, Coding Plan, ModelScope) beside them.
 */
export interface TokenSource {
  /** Stable, non-secret account id for logs, storage keys and the status page. */
  readonly id: string;
  readonly kind: 'qwen-oauth' | 'api-key';
  /**
   * A credential to call Qwen with now. `rejected` is an access token Qwen just answered 401/403 to:
   * the source must not hand it out again and refreshes past it (once).
   */
  getAccess(options?: { rejected?: string }): Promise<UpstreamAccess>;
  /** The models this account can serve; undefined when it serves whatever it is asked for. */
  readonly models?: readonly string[];
  /** When the current access token expires (epoch ms), if it expires at all; for the status page. */
  expiresAt?(): Promise<number | undefined>;
}

export interface UpstreamAccess {
  accountId: string;
  kind: TokenSource['kind'];
  token: string;
  /** OpenAI-style base URL ending in /v1; the chat URL is `${baseUrl}/chat/completions`. */
  baseUrl: string;
  /**
   * A plan endpoint (Coding Plan, Token Plan): it gets the client's own User-Agent (the plans serve
   * coding agents only), never one the gateway made up.
   */
  forwardUserAgent?: boolean;
}
