import { GatewayError } from '../errors.ts';
import type { Clock } from '../clock.ts';
import type { QwenCredentials } from '../credentials/qwen-credentials.ts';
import { QWEN_CODE_USER_AGENT, QWEN_OAUTH_CLIENT_ID, QWEN_OAUTH_TOKEN_PATH } from './constants.ts';

/**
 * Qwen's token endpoint refused the refresh token (HTTP 400/401): it was used already (rotation)
 * or revoked. Only a new login fixes that, unless another instance rotated it a moment ago.
 */
export class RefreshRefusedError extends Error {
  constructor(readonly status: number, readonly detail: string) {
    super(`Qwen refused the refresh token (HTTP ${status}: ${detail})`);
    this.name = 'RefreshRefusedError';
  }
}

/** When the token endpoint omits expires_in. A 401 from the API forces a refresh anyway. */
const DEFAULT_EXPIRES_IN_S = 3600;
/**
 * The one bound on a refresh: Qwen Code's own client gives up on a request after 120 s, so an answer
 * later than that is not one Qwen means to give. Nothing shorter may apply: Qwen rotates the refresh
 * token whether or not we read its answer, so abandoning a slow refresh spends the account's token.
 * Callers do not wait this long (the credential authority answers them sooner and lets the refresh
 * run on), and the refresh lock is renewed while it runs.
 */
export const REFRESH_TIMEOUT_MS = 120_000;

export interface RefreshOptions {
  oauthBaseUrl: string;
  fetch: typeof fetch;
  clock: Clock;
  signal?: AbortSignal;
}

/**
 * One refresh_token grant (protocol §2). The returned credentials carry the rotated refresh token
 * (or the old one when Qwen sends none) and keep the old resource_url when the answer omits it.
 * Throws RefreshRefusedError for a dead refresh token and GatewayError(502) for everything else.
 */
export async function refreshAccessToken(current: QwenCredentials, options: RefreshOptions): Promise<QwenCredentials> {
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: current.refresh_token,
    client_id: QWEN_OAUTH_CLIENT_ID,
  });
  let response: Response;
  try {
    response = await options.fetch(`${options.oauthBaseUrl}${QWEN_OAUTH_TOKEN_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': QWEN_CODE_USER_AGENT,
      },
      body: form.toString(),
      redirect: 'follow',
      signal: options.signal ?? AbortSignal.timeout(REFRESH_TIMEOUT_MS),
    });
  } catch (error) {
    throw refreshFailed(`Qwen's OAuth server could not be reached (${describe(error)}).`, 'qwen_oauth_unreachable', error);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw refreshFailed(`Qwen's token endpoint broke off its answer (${describe(error)}).`, 'qwen_oauth_unreachable', error);
  }
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // handled below: Alibaba's firewall answers an HTML page, which is not a dead token
  }
  if (response.status === 400 || response.status === 401) {
    const detail = body ? `${String(body.error ?? 'error')}: ${String(body.error_description ?? '')}` : snippet(text);
    throw new RefreshRefusedError(response.status, detail);
  }
  if (!response.ok) {
    throw refreshFailed(`Qwen's token endpoint answered HTTP ${response.status}: ${body ? JSON.stringify(body) : snippet(text)}`, 'qwen_refresh_failed');
  }
  if (!body) {
    throw refreshFailed(
      `Qwen's token endpoint answered something that is not JSON (${snippet(text)}); this is usually a firewall page. Retry shortly.`,
      'qwen_refresh_failed',
    );
  }
  if (typeof body.error === 'string') {
    throw refreshFailed(`Token refresh failed: ${body.error} - ${String(body.error_description ?? '')}`, 'qwen_refresh_failed');
  }
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw refreshFailed("Qwen's token endpoint answered without an access_token.", 'qwen_refresh_failed');
  }
  const expiresIn = Number(body.expires_in);
  return {
    access_token: body.access_token,
    token_type: typeof body.token_type === 'string' ? body.token_type : current.token_type || 'Bearer',
    refresh_token: typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : current.refresh_token,
    ...pickResourceUrl(body.resource_url, current.resource_url),
    expiry_date: options.clock.now() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_EXPIRES_IN_S) * 1000,
  };
}

function pickResourceUrl(fresh: unknown, old: string | undefined): { resource_url?: string } {
  if (typeof fresh === 'string' && fresh) return { resource_url: fresh };
  return old ? { resource_url: old } : {};
}

function refreshFailed(message: string, code: string, cause?: unknown): GatewayError {
  return new GatewayError({ status: 502, type: 'server_error', code, message, cause, failure: { kind: 'refresh_failed' } });
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat || '(empty body)';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
