// @ts-check
import { randomUUID } from 'node:crypto';
import { USER_AGENT } from './qwen-oauth-constants.mjs';
import { LoginError } from './login-error.mjs';

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * @typedef {object} OAuthResponse
 * @property {number} status
 * @property {string} statusText
 * @property {Record<string, unknown> | undefined} body  the JSON object, or undefined when the
 *   server answered something else (an HTML login page, a proxy's error page, …)
 * @property {string} contentType
 * @property {string} snippet  the start of a non-JSON answer, tags stripped, for error messages
 */

/**
 * POSTs a form to Qwen's OAuth server the way Qwen Code does (protocol §1): fields encoded with
 * encodeURIComponent (spaces as %20, not +), JSON accepted. Unlike Qwen Code it always sends a
 * User-Agent and follows redirects: without them the real server answers HTML (protocol §2).
 * Never throws on an HTTP status; throws LoginError (transient) when the server cannot be reached,
 * and rethrows the abort reason when `signal` is aborted (Ctrl-C).
 * @param {string} url
 * @param {Record<string, string>} fields
 * @param {{ signal?: AbortSignal, requestId?: boolean }} [options]  `requestId` adds x-request-id,
 *   which Qwen Code sends on the device-code request only
 * @returns {Promise<OAuthResponse>}
 */
export async function postOAuthForm(url, fields, options = {}) {
  const body = Object.entries(fields)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  /** @type {Record<string, string>} */
  const headers = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
    'User-Agent': USER_AGENT,
  };
  if (options.requestId) headers['x-request-id'] = randomUUID();
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;

  let response;
  let text;
  try {
    response = await fetch(url, { method: 'POST', headers, body, redirect: 'follow', signal });
    text = await response.text();
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const host = safeHost(url);
    const why = timeout.aborted ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : describeCause(error);
    throw new LoginError(`Could not reach the Qwen OAuth server at ${host} (${why}).`, {
      transient: true,
      cause: error,
    });
  }

  const contentType = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    statusText: response.statusText,
    body: parseJsonObject(text),
    contentType,
    snippet: snippetOf(text),
  };
}

/**
 * The message for an answer that is not JSON. Names the likely cause: a wrong QWEN_OAUTH_BASE_URL
 * or a proxy in between, both of which answer HTML.
 * @param {OAuthResponse} response
 * @param {string} what  e.g. "the device-code request"
 */
export function nonJsonMessage(response, what) {
  const kind = /html/i.test(response.contentType)
    ? 'HTML'
    : /json/i.test(response.contentType)
      ? 'broken JSON'
      : `"${response.contentType || 'no content type'}"`;
  // A page or a proxy's message helps to see what is in the way; a cut-off JSON body may hold a token.
  const shown = response.snippet && kind !== 'broken JSON' ? ` It began: "${response.snippet}".` : '';
  return (
    `The Qwen OAuth server answered ${what} with ${kind} instead of JSON (HTTP ${response.status}).` +
    `${shown} Check QWEN_OAUTH_BASE_URL and any proxy between you and chat.qwen.ai, then try again.`
  );
}

/** @param {string} text */
function parseJsonObject(text) {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? /** @type {Record<string, unknown>} */ (value)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A short, single-line excerpt: enough to recognise a login page or a proxy error, short enough
 * never to flood the terminal.
 * @param {string} text
 */
function snippetOf(text) {
  const flat = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

/** @param {string} url */
function safeHost(url) {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** fetch hides the real reason (ECONNREFUSED, ENOTFOUND, …) in `cause`. @param {unknown} error */
function describeCause(error) {
  const cause = /** @type {{ cause?: { code?: string, message?: string } }} */ (error).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
