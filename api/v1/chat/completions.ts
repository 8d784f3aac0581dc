import { handleOnVercel, type VercelRequestContext } from '../../../vercel/handle-on-vercel.ts';

export const config = { runtime: 'edge' };

/** POST /v1/chat/completions (vercel.json rewrites it here). */
export default function chatCompletions(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  return handleOnVercel(request, ctx);
}
