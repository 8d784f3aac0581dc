import type { Deps } from './deps.ts';
import type { RequestContext } from './http/request-context.ts';
import { health } from './handlers/health.ts';
import { getModel, listModels } from './handlers/models.ts';
import { chatCompletions } from './handlers/chat-completions.ts';
import { accountStatus } from './handlers/status.ts';

export type Handler = (request: Request, deps: Deps, ctx: RequestContext) => Promise<Response>;

export interface Route {
  /** Matched against the path (the Vercel entry removes the `/api` its functions are served under). */
  pattern: RegExp;
  methods: Partial<Record<'GET' | 'POST', Handler>>;
  /** Which key is required: none, a client key (OPENAI_API_KEY), or the admin key (ADMIN_API_KEY, else a client key). */
  auth: 'none' | 'client' | 'admin';
}

/** Every endpoint of the gateway, for every host. */
export const routes: Route[] = [
  { pattern: /^\/health\/?$/, auth: 'none', methods: { GET: health } },
  { pattern: /^\/v1\/models\/?$/, auth: 'client', methods: { GET: listModels } },
  { pattern: /^\/v1\/models\/.+$/, auth: 'client', methods: { GET: getModel } },
  { pattern: /^\/v1\/chat\/completions\/?$/, auth: 'client', methods: { POST: chatCompletions } },
  { pattern: /^\/(v1|admin)\/status\/?$/, auth: 'admin', methods: { GET: accountStatus } },
];
