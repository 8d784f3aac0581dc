// @ts-check
import { QWEN_OAUTH_CLIENT_ID, TOKEN_PATH } from './qwen-oauth-constants.mjs';
import { nonJsonMessage, postOAuthForm } from './post-oauth-form.mjs';
import { LoginError } from './login-error.mjs';
import { toQwenCredentials } from './to-qwen-credentials.mjs';

/** Qwen Code's margin (protocol §3): a token this close to expiry is treated as expired. */
export const EXPIRY_BUFFER_MS = 30_000;

/**
 * @param {import('./to-qwen-credentials.mjs').QwenCredentials} credentials
 * @param {number} [now]
 */
export function isExpired(credentials, now = Date.now()) {
  return now >= credentials.expiry_date - EXPIRY_BUFFER_MS;
}

/**
 * The refresh_token grant (protocol §2). Refresh tokens are single-use: the caller must persist
 * the result at once, or the login is lost.
 * @param {string} oauthBaseUrl
 * @param {import('./to-qwen-credentials.mjs').QwenCredentials} credentials
 * @param {AbortSignal} [signal]
 */
export async function refreshCredentials(oauthBaseUrl, credentials, signal) {
  const response = await postOAuthForm(
    `${oauthBaseUrl}${TOKEN_PATH}`,
    { grant_type: 'refresh_token', refresh_token: credentials.refresh_token, client_id: QWEN_OAUTH_CLIENT_ID },
    { signal },
  );
  const { status, body } = response;
  if (!body) throw new LoginError(nonJsonMessage(response, 'the refresh request'));
  const code = typeof body.error === 'string' ? body.error : '';
  const description = typeof body.error_description === 'string' ? body.error_description : '';
  const detail = code ? `${code}${description ? ` - ${description}` : ''}` : `HTTP ${status}`;
  // Qwen answers a dead refresh token with 400 invalid_request (older: 401); Qwen Code then logs in again.
  if (status === 400 || status === 401) {
    throw new LoginError(
      `The saved login can no longer be refreshed (${detail}). Run \`npm run login\` to sign in again.`,
    );
  }
  if (status < 200 || status >= 300 || code || typeof body.access_token !== 'string' || !body.access_token) {
    throw new LoginError(`Token refresh failed (${detail}). Try again later.`);
  }
  return toQwenCredentials(
    /** @type {import('./poll-for-token.mjs').TokenResponse} */ (/** @type {unknown} */ (body)),
    credentials,
  );
}
