import { handle } from '../lib/handle.ts';
import { vercelDeps, type VercelRequestContext } from './_shared/vercel-deps.ts';

export const config = { runtime: 'edge' };

/** GET /health (vercel.json rewrites it here). */
export default async function health(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  return handle(request, await vercelDeps(ctx));
}
