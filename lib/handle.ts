import { misconfigured } from './config.ts';
import type { Deps } from './deps.ts';
import { GatewayError, asGatewayError, toErrorResponse } from './errors.ts';
import { toAnthropicErrorResponse } from './anthropic/anthropic-error.ts';
import { authenticateClient } from './http/client-auth.ts';
import { corsHeaders } from './http/cors.ts';
import { guardRequest } from './http/request-guard.ts';
import { serverTiming, timed, type RequestContext } from './http/request-context.ts';
import { routes, type Route } from './routes.ts';

/**
 * The gateway: one fetch-shaped function every host entry calls. It is also the one place where
 * errors become responses, and where each request gets its id, CORS headers and log line.
 */
export async function handle(request: Request, deps: Deps): Promise<Response> {
  const ctx: RequestContext = { id: `req_${crypto.randomUUID().replaceAll('-', '')}`, startedAt: deps.clock.now(), fields: {}, timings: {} };
  const path = pathOf(request.url);
  const route = routes.find((r) => r.pattern.test(path));
  const leave = deps.inFlight?.enter(deps.waitUntil);
  let response: Response;
  try {
    response = await dispatch(request, path, route, deps, ctx);
  } catch (thrown) {
    const error = asGatewayError(thrown);
    ctx.fields.errorCode = error.code;
    // Server-side failures carry their message into the request's log line (configuration problems
    // were logged once already, where they were found); a bug also gets its own error line.
    if (error.status >= 500 && !CONFIG_ERRORS.has(error.code ?? '')) ctx.fields.error = error.message;
    if (!(thrown instanceof GatewayError)) {
      deps.logger.error('unexpected error', { requestId: ctx.id, cause: describeCause(thrown) });
    }
    response = route?.dialect?.(request) === 'anthropic' ? toAnthropicErrorResponse(error, ctx.id) : toErrorResponse(error);
  }
  // HEAD is GET without the body (uptime monitors use it).
  if (request.method === 'HEAD' && response.body) {
    void response.body.cancel();
    response = new Response(null, response);
  }
  // Every response here was made by the gateway itself, so its headers can be set in place.
  const { headers } = response;
  for (const [name, value] of Object.entries(corsHeaders(request, deps.config.apiKeys.length > 0))) headers.set(name, value);
  headers.set('x-request-id', ctx.id);
  // Anthropic's name for it; Claude Code and the Anthropic SDK report it with every error.
  if (route?.dialect) headers.set('request-id', ctx.id);
  headers.set('server-timing', serverTiming(ctx, deps.clock.now()));

  const log = () =>
    deps.logger.info('request', {
      requestId: ctx.id,
      method: request.method,
      path,
      ms: deps.clock.now() - ctx.startedAt,
      // Qwen's latency to its first byte, the same figure Server-Timing reports as `qwen`.
      ...(ctx.timings.qwen === undefined ? {} : { upstreamMs: ctx.timings.qwen }),
      ...ctx.fields,
      // A stream that failed after its 200 went out logs the status of the error it ended with.
      status: ctx.fields.status ?? response.status,
    });
  if (ctx.completion) deps.waitUntil(ctx.completion.then(log).finally(leave));
  else {
    log();
    leave?.();
  }
  return response;
}

/** The path of an absolute URL, without building a URL object on every request. */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  let end = url.length;
  for (const stop of ['?', '#']) {
    const at = url.indexOf(stop, start);
    if (at >= 0 && at < end) end = at;
  }
  return url.slice(start, end);
}

const CONFIG_ERRORS = new Set(['gateway_misconfigured', 'qwen_credentials_missing', 'qwen_credentials_malformed', 'qwen_credentials_invalid']);

async function dispatch(request: Request, path: string, route: Route | undefined, deps: Deps, ctx: RequestContext): Promise<Response> {
  if (request.method === 'OPTIONS') return new Response(null, { status: 204 });
  if (!route) {
    throw new GatewayError({
      status: 404,
      code: 'unknown_url',
      message: `Unknown request URL: ${request.method} ${path}. Please check the URL for typos; the API is served under /v1.`,
    });
  }
  const handler = route.methods[request.method as keyof Route["methods"]] ?? (request.method === 'HEAD' ? route.methods.GET : undefined);
  if (!handler) {
    const allowed = Object.keys(route.methods).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
    throw new GatewayError({
      status: 405,
      code: 'method_not_allowed',
      message: `${request.method} is not allowed on ${path}; use ${allowed}.`,
      headers: { allow: `${allowed}, OPTIONS` },
    });
  }
  if (route.auth !== 'none') {
    const keys = route.auth === 'admin' && deps.config.adminApiKeys.length > 0 ? deps.config.adminApiKeys : deps.config.apiKeys;
    await timed(ctx, 'auth', () => deps.clock.now(), () => authenticateClient(request, keys));
    // After auth, so that only a client with a key learns what is misconfigured.
    if (deps.config.problems.length > 0) throw misconfigured(deps.config.problems);
  }
  guardRequest(request, route.auth, deps.config, deps.logger);
  return handler(request, deps, ctx);
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
