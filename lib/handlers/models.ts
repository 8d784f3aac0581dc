import type { Deps } from '../deps.ts';
import { GatewayError } from '../errors.ts';

/**
 * A fixed `created` for every model: OpenAI's Model object requires one, and a value that changed
 * with every isolate start would make clients that cache the list see "new" models all the time.
 */
const CREATED = 1_758_585_600; // 2025-09-23, the date behind coder-model / vision-model (protocol §6)

const toModel = (id: string) => ({ id, object: 'model' as const, created: CREATED, owned_by: 'qwen' });

/** GET /v1/models */
export async function listModels(request: Request, deps: Deps): Promise<Response> {
  const models = await deps.accounts.servedModels(deps.config, request.headers.get('user-agent'));
  return Response.json({ object: 'list', data: models.map(toModel) });
}

/** GET /v1/models/{id} */
export async function getModel(request: Request, deps: Deps): Promise<Response> {
  const id = decodeURIComponent(new URL(request.url).pathname.replace(/^(\/api)?\/v1\/models\//, ''));
  const models = await deps.accounts.servedModels(deps.config, request.headers.get('user-agent'));
  if (!models.includes(id)) {
    throw new GatewayError({
      status: 404,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
      message: `The model '${id}' does not exist or you do not have access to it. Available: ${models.join(', ')}.`,
    });
  }
  return Response.json(toModel(id));
}
