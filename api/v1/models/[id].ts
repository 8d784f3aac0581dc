import { handleOnVercel, type VercelRequestContext } from '../../../vercel/handle-on-vercel.ts';

export const config = { runtime: 'edge' };

/** GET /v1/models/{id} (vercel.json rewrites it here); the core reads the id from the path. */
export default function retrieveModel(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  return handleOnVercel(request, ctx);
}
