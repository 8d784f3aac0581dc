// @ts-check
import { createPkcePair } from './create-pkce-pair.mjs';
import { openBrowser } from './open-browser.mjs';
import { pollForToken } from './poll-for-token.mjs';
import { requestDeviceCode } from './request-device-code.mjs';
import { showVerification } from './show-verification.mjs';
import { toQwenCredentials } from './to-qwen-credentials.mjs';
import { startWaitingIndicator } from './waiting-indicator.mjs';

/**
 * The whole device flow (protocol §1): PKCE pair, device code, show the URL, poll until approved.
 * Returns the credentials; writing them is the caller's job.
 * @param {object} options
 * @param {string} options.oauthBaseUrl
 * @param {number} [options.pollIntervalMs]
 * @param {boolean} options.interactive  a person at a terminal: spinner, and the browser may open
 * @param {boolean} options.browser  --no-browser turns it off
 * @param {boolean} options.qr
 * @param {NodeJS.ProcessEnv} options.env
 * @param {(line?: string) => void} options.print
 * @param {NodeJS.WriteStream} options.stream  where the waiting indicator draws
 * @param {AbortSignal} options.signal
 */
export async function deviceLogin({ oauthBaseUrl, pollIntervalMs, interactive, browser, qr, env, print, stream, signal }) {
  const pkce = createPkcePair();
  const device = await requestDeviceCode(oauthBaseUrl, pkce.challenge, signal);
  // The code's lifetime counts from now; the server's own clock is not ours to read.
  const deadline = Date.now() + device.expiresIn * 1000;

  showVerification(print, device, { qr });
  if (interactive && browser && openBrowser(device.verificationUriComplete, env)) {
    print('Opened it in your browser.');
  }

  const indicator = startWaitingIndicator(stream, deadline, { tty: interactive });
  let token;
  try {
    token = await pollForToken({
      oauthBaseUrl,
      deviceCode: device.deviceCode,
      codeVerifier: pkce.verifier,
      deadline,
      ...(pollIntervalMs !== undefined ? { intervalMs: pollIntervalMs } : {}),
      signal,
    });
  } finally {
    indicator.stop();
  }
  return toQwenCredentials(token);
}
