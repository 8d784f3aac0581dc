// @ts-check
import {
  DEVICE_CODE_PATH,
  QWEN_OAUTH_CLIENT_ID,
  QWEN_OAUTH_SCOPE,
} from './qwen-oauth-constants.mjs';
import { nonJsonMessage, postOAuthForm } from './post-oauth-form.mjs';
import { LoginError } from './login-error.mjs';

/** Qwen does not document the device code's lifetime; when it is missing, assume a short one. */
const FALLBACK_EXPIRES_IN_S = 600;

/**
 * @typedef {object} DeviceAuthorization
 * @property {string} deviceCode  secret: only ever sent back to the token endpoint
 * @property {string} userCode
 * @property {string} verificationUri
 * @property {string} verificationUriComplete  the URL to open; it carries the user code
 * @property {number} expiresIn  seconds
 */

/**
 * Step 1 of the device flow (protocol §1): ask for a device code bound to our PKCE challenge.
 * @param {string} oauthBaseUrl
 * @param {string} codeChallenge
 * @param {AbortSignal} [signal]
 * @returns {Promise<DeviceAuthorization>}
 */
export async function requestDeviceCode(oauthBaseUrl, codeChallenge, signal) {
  const response = await postOAuthForm(
    `${oauthBaseUrl}${DEVICE_CODE_PATH}`,
    {
      client_id: QWEN_OAUTH_CLIENT_ID,
      scope: QWEN_OAUTH_SCOPE,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    },
    { signal, requestId: true },
  );
  const body = response.body;
  if (!body) throw new LoginError(nonJsonMessage(response, 'the device-code request'));
  // Qwen Code recognises success only by the presence of device_code; a 200 may carry an error.
  if (response.status < 200 || response.status >= 300 || typeof body.device_code !== 'string') {
    const detail =
      typeof body.error === 'string'
        ? `${body.error}${typeof body.error_description === 'string' ? ` - ${body.error_description}` : ''}`
        : `HTTP ${response.status} ${response.statusText}`.trim();
    throw new LoginError(`Device authorization failed: ${detail}.`);
  }
  const userCode = typeof body.user_code === 'string' ? body.user_code : '';
  const verificationUri = typeof body.verification_uri === 'string' ? body.verification_uri : '';
  const complete =
    typeof body.verification_uri_complete === 'string' && body.verification_uri_complete
      ? body.verification_uri_complete
      : verificationUri;
  if (!complete || !userCode) {
    throw new LoginError('Device authorization failed: the answer has no verification URL or user code.');
  }
  const expiresIn = Number(body.expires_in);
  return {
    deviceCode: body.device_code,
    userCode,
    verificationUri: verificationUri || complete,
    verificationUriComplete: complete,
    expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : FALLBACK_EXPIRES_IN_S,
  };
}
