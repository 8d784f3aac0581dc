import type { Config } from '../config.ts';
import type { Deps } from '../deps.ts';
import { GatewayError } from '../errors.ts';

/**
 * Maps the model a client names to one Qwen serves. Clients hard-code OpenAI and Anthropic names
 * (gpt-4o, o3, claude-sonnet-4…) in defaults and pickers; an operator's MODEL_ALIASES come first,
 * then those families map to the default model ("mini", "nano", "haiku" and "flash" variants to
 * the fast one when it is served). Anything else unknown is a 404 before Qwen is called, rather
 * than Qwen's opaque 400.
 */
export function resolveModel(requested: string | undefined, config: Pick<Config, 'models' | 'defaultModel' | 'modelAliases'>): string {
  const model = requested ?? config.defaultModel;
  if (config.models.includes(model)) return model;
  // Own keys only: a client's model name ('constructor', '__proto__') must not find Object.prototype.
  const alias = Object.hasOwn(config.modelAliases, model) ? config.modelAliases[model] : undefined;
  if (typeof alias === 'string' && alias) return alias;
  if (/^(gpt-|chatgpt-|o\d|claude-)/i.test(model)) {
    const fast = config.models.find((m) => /flash/.test(m));
    return /mini|nano|haiku|flash/i.test(model) && fast ? fast : config.defaultModel;
  }
  throw new GatewayError({
    status: 404,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
    message: `The model '${model}' does not exist or you do not have access to it. Available: ${config.models.join(', ')}.`,
  });
}

/**
 * The served model for a request's `model` (or the default), against what the deployment serves now:
 * discovered per provider where it can be (AccountPool.servedModels), the configured list otherwise.
 */
export async function resolveRequestedModel(requested: string | undefined, request: Request, deps: Pick<Deps, 'accounts' | 'config'>): Promise<string> {
  const models = await deps.accounts.servedModels(deps.config, request.headers.get('user-agent'));
  return resolveModel(requested, { ...deps.config, models });
}
