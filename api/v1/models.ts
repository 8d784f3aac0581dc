import { handle } from '../../lib/handle.ts';
import { vercelDeps, type VercelRequestContext } from '../_shared/vercel-deps.ts';

export const config = { runtime: 'edge' };

/** GET /v1/models (vercel.json rewrites it here). */
export default async function listModels(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  return handle(request, await vercelDeps(ctx));
}
