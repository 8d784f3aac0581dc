import type { Deps } from '../deps.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import type { RequestContext } from '../http/request-context.ts';
import { readJsonBody } from '../http/read-json-body.ts';
import { resolveRequestedModel } from '../models/resolve-model.ts';
import { completionToResponse, newResponseContext, responseShell } from '../responses/response-object.ts';
import { responseError } from '../responses/response-error.ts';
import { responsesStreamEncoder } from '../responses/responses-stream-encoder.ts';
import { inputItems, toChatRequest, validateResponsesRequest } from '../responses/to-chat-request.ts';
import { serveQwenTurn } from '../turn/serve-qwen-turn.ts';
import { sessionIdOf } from '../turn/session-id-of.ts';
import { stableUuid } from '../util/stable-uuid.ts';

type Json = Record<string, unknown>;

/**
 * POST /v1/responses: the OpenAI Responses API (Codex CLI, the SDKs' `responses.create`), translated
 * onto the one Qwen path. `store` defaults to true as at OpenAI; the stored record is written after
 * the answer (waitUntil), and Codex's `store: false` writes nothing.
 */
export async function createResponse(request: Request, deps: Deps, ctx: RequestContext): Promise<Response> {
  const body = validateResponsesRequest(await readJsonBody(request, deps.config.maxBodyBytes));
  const history = await previousConversation(body.previous_response_id, deps);
  const { chat, names } = toChatRequest(body, history);
  const model = await resolveRequestedModel(typeof body.model === 'string' ? body.model : undefined, request, deps);
  const stream = body.stream === true;
  const store = body.store !== false && deps.config.responsesStore;
  const response = newResponseContext(body, model, names, store, deps.clock.now());
  ctx.fields.responseId = response.id;
  const save = (responseJson: string) => {
    if (!store) return;
    const record = `{"input":${JSON.stringify([...history, ...inputItems(body.input)])},"response":${responseJson}}`;
    deps.waitUntil(
      deps.responses.put(response.id, record, deps.config.responsesStoreTtlMs).catch((error: unknown) => {
        deps.logger.warn('storing a response failed', { requestId: ctx.id, responseId: response.id, error: String(error) });
      }),
    );
  };
  // prompt_cache_key names the conversation (Codex sends its session id): the warmest cache key there is.
  const sessionId = typeof body.prompt_cache_key === 'string' ? stableUuid(`prompt_cache_key:${body.prompt_cache_key}`) : sessionIdOf(chat.messages);
  return serveQwenTurn(
    { body: { ...chat, model }, model, stream, sessionId, promptId: ctx.id },
    {
      completion(completion) {
        const answer = completionToResponse(completion, response, deps.clock.now());
        save(JSON.stringify(answer));
        return answer;
      },
      streamEncoder: () => responsesStreamEncoder({ ctx: response, now: () => deps.clock.now(), onFinished: save }),
      // A whole answer that failed after a slow start had committed to 200: a failed Response, the
      // protocol's own word for it (the SDKs read `status` and `error`).
      errorBody: (error) => ({ ...responseShell(response, 'failed'), error: responseError(error) }),
    },
    request,
    deps,
    ctx,
  );
}

/** GET /v1/responses/{id}: a stored response. */
export async function getResponse(request: Request, deps: Deps): Promise<Response> {
  const { id, rest } = responsePath(request);
  const record = await storedRecord(id, deps, () => notFound(id));
  if (rest === 'input_items') {
    const items = record.input as Json[];
    return Response.json({ object: 'list', data: items, first_id: items[0]?.id ?? null, last_id: items.at(-1)?.id ?? null, has_more: false });
  }
  return Response.json(record.response);
}

/** DELETE /v1/responses/{id}. */
export async function deleteResponse(request: Request, deps: Deps): Promise<Response> {
  const { id } = responsePath(request);
  enabled(deps, () => notFound(id));
  if (!(await storeCall(() => deps.responses.delete(id)))) throw notFound(id);
  return Response.json({ id, object: 'response', deleted: true });
}

/** The stored conversation `previous_response_id` names: its input items, then its output. */
async function previousConversation(id: unknown, deps: Deps): Promise<unknown[]> {
  if (typeof id !== 'string') return [];
  const missing = () =>
    invalidRequest(
      `Previous response with id '${id}' not found. It may have expired (responses are kept ${describeTtl(deps.config.responsesStoreTtlMs)}), been deleted, or been created with store: false.`,
      'previous_response_id',
      'previous_response_not_found',
    );
  enabled(deps, () =>
    invalidRequest(
      'previous_response_id cannot be used here: this gateway stores no responses (RESPONSES_STORE=off). Send the whole conversation as input instead.',
      'previous_response_id',
      'previous_response_not_found',
    ),
  );
  const record = await storedRecord(id, deps, missing);
  const output = (record.response as Json | undefined)?.output;
  return [...(record.input as unknown[]), ...(Array.isArray(output) ? output : [])];
}

async function storedRecord(id: string, deps: Deps, missing: () => GatewayError): Promise<Json> {
  enabled(deps, missing);
  const raw = await storeCall(() => deps.responses.get(id));
  if (raw === null) throw missing();
  const record = JSON.parse(raw) as Json;
  if (!Array.isArray(record.input) || typeof record.response !== 'object') throw missing();
  return record;
}

function enabled(deps: Deps, refusal: () => GatewayError): void {
  if (!deps.config.responsesStore) throw refusal();
}

/** The store is a network service on every host: its failure is the gateway's 503, said as such. */
async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new GatewayError({
      status: 503,
      code: 'response_store_unavailable',
      message: `Stored responses could not be reached (${error instanceof Error ? error.message : String(error)}); retry, or send the whole conversation as input.`,
      cause: error,
    });
  }
}

function notFound(id: string): GatewayError {
  return new GatewayError({
    status: 404,
    param: 'response_id',
    code: 'response_not_found',
    message: `No response with id '${id}' is stored here. Responses are kept only when created with store: true (the default), for a limited time, and not at all when the operator set RESPONSES_STORE=off.`,
  });
}

/** The id (and anything after it) in /v1/responses/{id}[/input_items], with Vercel's /api prefix allowed. */
function responsePath(request: Request): { id: string; rest: string } {
  const path = new URL(request.url).pathname;
  const [id = '', rest = ''] = path.slice(path.indexOf('/responses/') + '/responses/'.length).split('/');
  return { id: decodeURIComponent(id), rest };
}

function describeTtl(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 48 ? `${Math.round(hours / 24)} days` : hours >= 1 ? `${Math.round(hours)} hours` : `${Math.round(ms / 1000)} s`;
}
