/**
 * CORS for browser clients (chat UIs calling the gateway directly). The gateway is an API guarded
 * by keys, not cookies, so any origin may call it; credentials are never allowed.
 */
const ALLOWED_HEADERS = 'authorization, content-type, x-api-key, x-request-id, openai-organization, openai-project, openai-beta, x-stainless-arch, x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout';

export function corsHeaders(request: Request): Record<string, string> {
  return {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'x-request-id, retry-after, x-should-retry, server-timing',
    vary: 'origin',
    ...(request.method === 'OPTIONS'
      ? {
          'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
          // Echo what the browser asks for: SDKs add x-stainless-* headers that change between versions.
          'access-control-allow-headers': request.headers.get('access-control-request-headers') || ALLOWED_HEADERS,
          'access-control-max-age': '86400',
        }
      : {}),
  };
}
