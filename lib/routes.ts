import type { Deps } from './deps.ts';
import type { RequestContext } from './http/request-context.ts';
import { health } from './handlers/health.ts';
import { getModel, listModels } from './handlers/models.ts';
import { chatCompletions } from './handlers/chat-completions.ts';
import { countTokens, messages } from './handlers/messages.ts';
import { createResponse, deleteResponse, getResponse } from './handlers/responses.ts';
import { accountStatus } from './handlers/status.ts';

export type Handler = (request: Request, deps: Deps, ctx: RequestContext) => Promise<Response>;

export interface Route {
  /** Matched against the path (the Vercel entry removes the `/api` its functions are served under). */
  pattern: RegExp;
  methods: Partial<Record<'GET' | 'POST' | 'DELETE', Handler>>;
  /** Which key is required: none, a client key (OPENAI_API_KEY), or the admin key (ADMIN_API_KEY, else a client key). */
  auth: 'none' | 'client' | 'admin';
  /** Whose error shape the route answers in; OpenAI's unless said otherwise. */
  dialect?: (request: Request) => Dialect;
}

export type Dialect = 'openai' | 'anthropic';

const anthropic = (): Dialect => 'anthropic';
/** /v1/models serves both kinds of client; Anthropic's send `anthropic-version` on every request. */
const byVersionHeader = (request: Request): Dialect => (request.headers.has('anthropic-version') ? 'anthropic' : 'openai');

/** Every endpoint of the gateway, for every host. */
export const routes: Route[] = [
  { pattern: /^\/health\/?$/, auth: 'none', methods: { GET: health } },
  { pattern: /^\/v1\/models\/?$/, auth: 'client', methods: { GET: listModels }, dialect: byVersionHeader },
  { pattern: /^\/v1\/models\/.+$/, auth: 'client', methods: { GET: getModel }, dialect: byVersionHeader },
  { pattern: /^\/v1\/chat\/completions\/?$/, auth: 'client', methods: { POST: chatCompletions } },
  { pattern: /^\/v1\/messages\/?$/, auth: 'client', methods: { POST: messages }, dialect: anthropic },
  { pattern: /^\/v1\/messages\/count_tokens\/?$/, auth: 'client', methods: { POST: countTokens }, dialect: anthropic },
  { pattern: /^\/v1\/responses\/?$/, auth: 'client', methods: { POST: createResponse } },
  { pattern: /^\/v1\/responses\/[^/]+(\/input_items)?\/?$/, auth: 'client', methods: { GET: getResponse, DELETE: deleteResponse } },
  { pattern: /^\/(v1|admin)\/status\/?$/, auth: 'admin', methods: { GET: accountStatus } },
];
