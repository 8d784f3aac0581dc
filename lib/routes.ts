import type { Deps } from './deps.ts';
import type { RequestContext } from './http/request-context.ts';
import { health } from './handlers/health.ts';
import { getModel, listModels } from './handlers/models.ts';
import { chatCompletions } from './handlers/chat-completions.ts';
import { createResponse, deleteResponse, getResponse } from './handlers/responses.ts';
import { accountStatus } from './handlers/status.ts';

export type Handler = (request: Request, deps: Deps, ctx: RequestContext) => Promise<Response>;

export interface Route {
  /** Matched against the path with any `/api` prefix removed (Vercel serves functions under /api). */
  pattern: RegExp;
  methods: Partial<Record<'GET' | 'POST' | 'DELETE', Handler>>;
  /** Which key is required: none, a client key (OPENAI_API_KEY), or the admin key (ADMIN_API_KEY, else a client key). */
  auth: 'none' | 'client' | 'admin';
}

/** Every endpoint of the gateway, for every host. */
export const routes: Route[] = [
  { pattern: /^\/health\/?$/, auth: 'none', methods: { GET: health } },
  { pattern: /^\/v1\/models\/?$/, auth: 'client', methods: { GET: listModels } },
  { pattern: /^\/v1\/models\/.+$/, auth: 'client', methods: { GET: getModel } },
  { pattern: /^\/v1\/chat\/completions\/?$/, auth: 'client', methods: { POST: chatCompletions } },
  { pattern: /^\/v1\/responses\/?$/, auth: 'client', methods: { POST: createResponse } },
  { pattern: /^\/v1\/responses\/[^/]+(\/input_items)?\/?$/, auth: 'client', methods: { GET: getResponse, DELETE: deleteResponse } },
  { pattern: /^\/(v1|admin)\/status\/?$/, auth: 'admin', methods: { GET: accountStatus } },
];
