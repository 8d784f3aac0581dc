// @ts-check
import { LoginError } from './login-error.mjs';

/**
 * @typedef {object} QwenCredentials  `~/.qwen/oauth_creds.json`, as Qwen Code writes it
 * @property {string} access_token
 * @property {string} token_type
 * @property {string} refresh_token
 * @property {string} [resource_url]
 * @property {number} expiry_date  epoch milliseconds
 */

/**
 * Turns a token-endpoint answer into the credentials file's object, with Qwen Code's key order
 * (access_token, token_type, refresh_token, resource_url, expiry_date) so either tool can read
 * and rewrite the file. When refreshing, `previous` fills what the answer leaves out: the old
 * refresh token when it was not rotated, and resource_url (Qwen Code would otherwise fall back to
 * DashScope, where OAuth tokens do not work; protocol §2).
 * @param {import('./poll-for-token.mjs').TokenResponse} token
 * @param {QwenCredentials} [previous]
 * @param {number} [now]
 * @returns {QwenCredentials}
 */
export function toQwenCredentials(token, previous, now = Date.now()) {
  const refreshToken = nonEmpty(token.refresh_token) ?? previous?.refresh_token;
  if (!refreshToken) {
    throw new LoginError('Qwen issued no refresh token, so the gateway could not keep this login alive.');
  }
  const resourceUrl = nonEmpty(token.resource_url) ?? previous?.resource_url;
  const expiresIn = Number(token.expires_in);
  return {
    access_token: token.access_token,
    token_type: nonEmpty(token.token_type) ?? 'Bearer',
    refresh_token: refreshToken,
    ...(resourceUrl ? { resource_url: resourceUrl } : {}),
    // Without expires_in, treat the token as already expired: the gateway refreshes it first.
    expiry_date: Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : now,
  };
}

/** @param {unknown} value */
function nonEmpty(value) {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
