import { handle } from '../lib/handle.ts';
import { createVercelDeps, type VercelGateway, type VercelRequestContext } from './create-vercel-deps.ts';

export type { VercelRequestContext };

// Module scope is the isolate: built on the first request, then reused, so the token cache and the
// Edge Config snapshot live as long as the isolate does.
let gateway: VercelGateway | undefined;

/** What every api/ function runs: the gateway, with this isolate's deps. */
export async function handleOnVercel(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  gateway ??= createVercelDeps();
  return handle(withoutApiPrefix(request), await gateway.depsFor(ctx));
}

/**
 * Vercel serves the functions under /api (vercel.json rewrites /v1/... there, and /api/v1/... is
 * reachable too); the gateway's routes are the paths without it. Only such a request is rebuilt.
 */
export function withoutApiPrefix(request: Request): Request {
  const url = new URL(request.url);
  if (!/^\/api(\/|$)/.test(url.pathname)) return request;
  url.pathname = url.pathname.slice('/api'.length) || '/';
  const body = request.method === 'GET' || request.method === 'HEAD' ? null : request.body;
  return new Request(url, { method: request.method, headers: request.headers, body, signal: request.signal, duplex: 'half' } as RequestInit);
}
