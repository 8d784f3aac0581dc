import { handle } from '../../../lib/handle.ts';
import { vercelDeps, type VercelRequestContext } from '../../_shared/vercel-deps.ts';

export const config = { runtime: 'edge' };

/** POST /v1/chat/completions (vercel.json rewrites it here). */
export default async function chatCompletions(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  return handle(request, await vercelDeps(ctx));
}
