import type { Deps } from '../deps.ts';
import { GatewayError } from '../errors.ts';
import { lookupModel, QWEN_MODEL_LIMITS } from '../qwen/model-limits.ts';

/**
 * A fixed `created` for every model: OpenAI's Model object requires one, and a value that changed
 * with every isolate start would make clients that cache the list see "new" models all the time.
 */
const CREATED = 1_758_585_600; // 2025-09-23, the date behind coder-model / vision-model (protocol §6)

const toModel = (id: string) => ({ id, object: 'model' as const, created: CREATED, owned_by: 'qwen' });

/** Anthropic's Model object (GET /v1/models as Claude Code's gateway model discovery reads it). */
const toAnthropicModel = (id: string) => {
  const limits = lookupModel(QWEN_MODEL_LIMITS, id);
  return {
    type: 'model' as const,
    id,
    display_name: id,
    created_at: new Date(CREATED * 1000).toISOString(),
    max_input_tokens: limits?.inputTokens ?? null,
    max_tokens: limits?.outputTokens ?? null,
    lifecycle: 'active' as const,
    capabilities: null,
    line: null,
    deprecated_at: null,
    retires_at: null,
  };
};

/** GET /v1/models: OpenAI's list, or Anthropic's for clients that send `anthropic-version`. */
export async function listModels(request: Request, deps: Deps): Promise<Response> {
  const { models } = deps.config;
  if (request.headers.has('anthropic-version')) {
    return Response.json({ data: models.map(toAnthropicModel), has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null });
  }
  return Response.json({ object: 'list', data: models.map(toModel) });
}

/** GET /v1/models/{id} */
export async function getModel(request: Request, deps: Deps): Promise<Response> {
  const id = decodeURIComponent(new URL(request.url).pathname.replace(/^(\/api)?\/v1\/models\//, ''));
  if (!deps.config.models.includes(id)) {
    throw new GatewayError({
      status: 404,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
      message: `The model '${id}' does not exist or you do not have access to it. Available: ${deps.config.models.join(', ')}.`,
    });
  }
  return Response.json(request.headers.has('anthropic-version') ? toAnthropicModel(id) : toModel(id));
}
