import type { Deps } from '../../lib/deps.ts';
import { createVercelDeps, type VercelGateway, type VercelRequestContext } from '../../lib/vercel/create-vercel-deps.ts';

export type { VercelRequestContext };

// Module scope is the isolate: built on the first request, then reused, so the token cache and the
// Edge Config snapshot live as long as the isolate does. (Files under api/_shared are not functions.)
let gateway: VercelGateway | undefined;

/** The deps for one request of this isolate. */
export function vercelDeps(ctx?: VercelRequestContext): Promise<Deps> {
  gateway ??= createVercelDeps();
  return gateway.depsFor(ctx);
}
