import type { Config } from '../config.ts';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * What an open gateway (no OPENAI_API_KEY, the quick-start state) must not allow: any web page
 * spending the owner's Qwen quota. A browser sends `Origin` on every cross-origin POST, and only
 * `application/json` bodies force a CORS preflight, so:
 * - without client keys, a request from a foreign origin (anything but a loopback one) is refused
 *   before anything reaches Qwen, and its answer carries no CORS grant (see cors.ts);
 * - its POST bodies must be declared as JSON (a `text/plain` or type-less body needs no preflight,
 *   so a page could send it from anywhere without the browser asking first). A keyed gateway
 *   accepts any declared type: the key, not the preflight, protects it.
 * - the operator's status page is never public: without ADMIN_API_KEY and client keys it is closed.
 * Runs after the key check, so a keyed gateway still answers a missing key with its 401.
 */
export function guardRequest(request: Request, auth: 'none' | 'client' | 'admin', config: Config, logger: Logger): void {
  const open = config.apiKeys.length === 0;
  if (open) warnOnce(logger);
  if (auth === 'none') return;
  if (open) {
    if (auth === 'admin' && config.adminApiKeys.length === 0) {
      throw new GatewayError({
        status: 403,
        code: 'status_page_closed',
        message:
          'The status page is closed because no key protects it. Set ADMIN_API_KEY (or OPENAI_API_KEY) to open it to callers that present that key.',
      });
    }
    const origin = request.headers.get('origin');
    if (origin !== null && !isLoopbackOrigin(origin)) {
      throw new GatewayError({
        status: 403,
        code: 'origin_not_allowed',
        message:
          `This gateway has no API key (OPENAI_API_KEY is unset), so it serves local clients only; requests from web pages at ${origin.slice(0, 200)} are refused. ` +
          'Set OPENAI_API_KEY to serve browser clients.',
      });
    }
  }
  if (open && request.method === 'POST' && !isJsonContentType(request.headers.get('content-type'))) {
    throw new GatewayError({
      status: 415,
      type: 'invalid_request_error',
      code: 'unsupported_media_type',
      message: "Send the request body as JSON with 'Content-Type: application/json'.",
    });
  }
}

/** application/json, with or without parameters, and structured `+json` types (RFC 6839). */
export function isJsonContentType(header: string | null): boolean {
  if (!header) return false;
  const essence = header.split(';', 1)[0]!.trim().toLowerCase();
  return essence === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(essence);
}

/** http(s) origins on this machine: localhost (and its subdomains), 127.0.0.0/8, [::1]. */
export function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null" (sandboxed frames, file: pages)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

const warned = new WeakSet<Logger>();

/** Once per isolate (its logger): an open gateway is a choice the operator should see in the logs. */
function warnOnce(logger: Logger): void {
  if (warned.has(logger)) return;
  warned.add(logger);
  logger.warn(
    'OPENAI_API_KEY is unset: the gateway is open to any client that can reach it (browser pages from other origins are refused). Set OPENAI_API_KEY before exposing it.',
  );
}
