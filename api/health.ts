import { handleOnVercel, type VercelRequestContext } from '../vercel/handle-on-vercel.ts';

export const config = { runtime: 'edge' };

/** GET /health (vercel.json rewrites it here). */
export default function health(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  return handleOnVercel(request, ctx);
}
