import { isLoopbackOrigin } from './request-guard.ts';

/**
 * CORS for browser clients (chat UIs calling the gateway directly). A gateway guarded by keys (not
 * cookies) lets any origin call it; credentials are never allowed. An open gateway (no client keys)
 * grants only loopback origins: a page elsewhere must not read what the owner's quota answers.
 */
const ALLOWED_HEADERS = 'authorization, content-type, x-api-key, anthropic-version, anthropic-beta, x-request-id, openai-organization, openai-project, openai-beta, x-stainless-arch, x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout';

export function corsHeaders(request: Request, keyed = true): Record<string, string> {
  const origin = request.headers.get('origin');
  const allow = keyed ? '*' : origin !== null && isLoopbackOrigin(origin) ? origin : undefined;
  return {
    ...(allow ? { 'access-control-allow-origin': allow } : {}),
    'access-control-expose-headers': 'x-request-id, request-id, retry-after, x-should-retry, server-timing',
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
