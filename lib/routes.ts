import type { Deps } from './deps.ts';
import type { RequestContext } from './http/request-context.ts';
import { health } from './handlers/health.ts';
import { getModel, listModels } from './handlers/models.ts';
import { chatCompletions } from './handlers/chat-completions.ts';

export type Handler = (request: Request, deps: Deps, ctx: RequestContext) => Promise<Response>;

export interface Route {
  /** Matched against the path with any `/api` prefix removed (Vercel serves functions under /api). */
  pattern: RegExp;
  methods: Partial<Record<'GET' | 'POST', Handler>>;
  /** Whether the client key (OPENAI_API_KEY) is required. */
  auth: boolean;
}

/** Every endpoint of the gateway, for every host. */
export const routes: Route[] = [
  { pattern: /^\/health\/?$/, auth: false, methods: { GET: health } },
  { pattern: /^\/v1\/models\/?$/, auth: true, methods: { GET: listModels } },
  { pattern: /^\/v1\/models\/.+$/, auth: true, methods: { GET: getModel } },
  { pattern: /^\/v1\/chat\/completions\/?$/, auth: true, methods: { POST: chatCompletions } },
];
