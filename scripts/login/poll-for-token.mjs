// @ts-check
import {
  QWEN_OAUTH_CLIENT_ID,
  QWEN_OAUTH_DEVICE_GRANT_TYPE,
  TOKEN_PATH,
} from './qwen-oauth-constants.mjs';
import { nonJsonMessage, postOAuthForm } from './post-oauth-form.mjs';
import { LoginError } from './login-error.mjs';
import { sleep } from './sleep.mjs';

/** Qwen Code's schedule (protocol §1): 2 s, ×1.5 on slow_down, never above 10 s. */
export const DEFAULT_POLL_INTERVAL_MS = 2_000;
const MAX_POLL_INTERVAL_MS = 10_000;
/** A user may take minutes to approve; one dropped connection or 502 should not waste that. */
const MAX_CONSECUTIVE_TRANSIENT_FAILURES = 3;

/**
 * @typedef {object} TokenResponse
 * @property {string} access_token
 * @property {string} [refresh_token]
 * @property {string} [token_type]
 * @property {number} [expires_in]  seconds
 * @property {string} [resource_url]
 */

/**
 * Step 2 of the device flow: polls the token endpoint until the user approves, declines, or the
 * device code runs out.
 *
 * Unlike Qwen Code, a slow_down keeps the longer interval for every later poll (RFC 8628 §3.5)
 * instead of falling back to 2 s on the next pending answer: falling back only earns another
 * slow_down. slow_down is accepted with any status, since servers send it with 429 (Qwen) or 400
 * (RFC 8628). Terminal answers (denied, expired) stop at once rather than polling on as Qwen Code does.
 *
 * @param {object} options
 * @param {string} options.oauthBaseUrl
 * @param {string} options.deviceCode
 * @param {string} options.codeVerifier
 * @param {number} options.deadline  epoch ms at which the device code expires
 * @param {number} [options.intervalMs]  the first interval; tests scale it down
 * @param {AbortSignal} [options.signal]
 * @returns {Promise<TokenResponse>}
 */
export async function pollForToken({
  oauthBaseUrl,
  deviceCode,
  codeVerifier,
  deadline,
  intervalMs = DEFAULT_POLL_INTERVAL_MS,
  signal,
}) {
  let interval = intervalMs;
  let transientFailures = 0;
  /** @param {LoginError} error */
  const retryOrThrow = (error) => {
    transientFailures += 1;
    if (transientFailures > MAX_CONSECUTIVE_TRANSIENT_FAILURES) throw error;
  };

  for (;;) {
    // Wait first: nobody approves within the same millisecond the code was shown.
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw expired();
    await sleep(Math.min(interval, remaining), signal);
    if (Date.now() >= deadline) throw expired();

    let response;
    try {
      response = await postOAuthForm(
        `${oauthBaseUrl}${TOKEN_PATH}`,
        {
          grant_type: QWEN_OAUTH_DEVICE_GRANT_TYPE,
          client_id: QWEN_OAUTH_CLIENT_ID,
          device_code: deviceCode,
          code_verifier: codeVerifier,
        },
        { signal },
      );
    } catch (error) {
      if (error instanceof LoginError && error.transient) {
        retryOrThrow(error);
        continue;
      }
      throw error;
    }

    const { status, body } = response;
    if (!body) {
      const error = new LoginError(nonJsonMessage(response, 'the token request'));
      if (status >= 500) {
        retryOrThrow(error);
        continue;
      }
      throw error;
    }
    transientFailures = 0;

    if (status >= 200 && status < 300 && typeof body.access_token === 'string' && body.access_token) {
      return /** @type {TokenResponse} */ (/** @type {unknown} */ (body));
    }

    const code = typeof body.error === 'string' ? body.error : '';
    const description = typeof body.error_description === 'string' ? body.error_description : '';
    switch (code) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval = Math.min(interval * 1.5, MAX_POLL_INTERVAL_MS);
        continue;
      case 'access_denied':
        throw new LoginError('Access denied: the sign-in was declined in the browser. Nothing was written.');
      case 'expired_token':
        throw expired();
    }
    if (status === 401) {
      throw new LoginError('Device code expired or invalid. Run `npm run login` again to get a new code.');
    }
    if (status >= 500) {
      retryOrThrow(new LoginError(`The Qwen OAuth server failed (HTTP ${status}${code ? `, ${code}` : ''}).`));
      continue;
    }
    const detail = code ? `${code}${description ? ` - ${description}` : ''}` : 'an answer without a token';
    throw new LoginError(`Qwen refused the login (HTTP ${status}): ${detail}.`);
  }
}

function expired() {
  return new LoginError(
    'The code expired before it was approved. Run `npm run login` again and approve within the time shown.',
  );
}
