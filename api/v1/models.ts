import { handleOnVercel, type VercelRequestContext } from '../../vercel/handle-on-vercel.ts';

export const config = { runtime: 'edge' };

/** GET /v1/models (vercel.json rewrites it here). */
export default function listModels(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  return handleOnVercel(request, ctx);
}
