import type { Deps } from '../deps.ts';
import type { RequestContext } from '../http/request-context.ts';
import { readJsonBody } from '../http/read-json-body.ts';
import { validateChatRequest } from '../openai/validate-chat-request.ts';
import { chatStreamEncoder } from '../openai/chat-stream-encoder.ts';
import { resolveModel } from '../models/resolve-model.ts';
import { serveQwenTurn } from '../turn/serve-qwen-turn.ts';
import { sessionIdOf } from '../turn/session-id-of.ts';

/** POST /v1/chat/completions: the client's body is already what Qwen takes. */
export async function chatCompletions(request: Request, deps: Deps, ctx: RequestContext): Promise<Response> {
  const body = validateChatRequest(await readJsonBody(request, deps.config.maxBodyBytes));
  const model = resolveModel(typeof body.model === 'string' ? body.model : undefined, deps.config);
  const stream = body.stream === true;
  const includeUsage = (body.stream_options as { include_usage?: unknown } | null | undefined)?.include_usage === true;
  return serveQwenTurn(
    { body, model, stream, sessionId: sessionIdOf(body.messages), promptId: ctx.id },
    { completion: (completion) => completion, streamEncoder: () => chatStreamEncoder({ includeUsage }), errorBody: (error) => error.toJSON() },
    request,
    deps,
    ctx,
  );
}
