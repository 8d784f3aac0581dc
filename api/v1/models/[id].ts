import { handle } from '../../../lib/handle.ts';
import { vercelDeps, type VercelRequestContext } from '../../_shared/vercel-deps.ts';

export const config = { runtime: 'edge' };

/** GET /v1/models/{id} (vercel.json rewrites it here); the core reads the id from the path. */
export default async function retrieveModel(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  return handle(request, await vercelDeps(ctx));
}
