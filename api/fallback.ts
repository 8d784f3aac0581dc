import { handleOnVercel, type VercelRequestContext } from '../vercel/handle-on-vercel.ts';

export const config = { runtime: 'edge' };

/**
 * Every path no other function serves (vercel.json's last rewrite). It runs the whole core rather
 * than a canned 404: an unknown path gets the gateway's OpenAI-shaped 404, a preflight anywhere its
 * 204, and an endpoint the core gains later works here before it gets a function of its own.
 */
export default function fallback(request: Request, ctx?: VercelRequestContext): Promise<Response> {
  return handleOnVercel(request, ctx);
}
