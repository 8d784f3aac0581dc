import type { Deps } from '../deps.ts';
import { GatewayError } from '../errors.ts';
import type { RequestContext } from '../http/request-context.ts';
import { readJsonBody } from '../http/read-json-body.ts';
import { resolveRequestedModel } from '../models/resolve-model.ts';
import { serveQwenTurn } from '../turn/serve-qwen-turn.ts';
import { sessionIdOf } from '../turn/session-id-of.ts';
import { validateMessagesRequest } from '../anthropic/validate-messages-request.ts';
import { messagesToChat } from '../anthropic/messages-to-chat.ts';
import { chatToMessage, newMessageId } from '../anthropic/chat-to-message.ts';
import { messagesStreamEncoder } from '../anthropic/messages-stream-encoder.ts';
import { anthropicErrorBody } from '../anthropic/anthropic-error.ts';
import { estimateChatTokens } from '../anthropic/estimate-tokens.ts';

/**
 * POST /v1/messages: Anthropic's Messages API (Claude Code, the Anthropic SDKs) translated onto the
 * one path to Qwen. Query strings (`?beta=true`) and the anthropic-version / anthropic-beta headers
 * need nothing from the gateway and are ignored.
 */
export async function messages(request: Request, deps: Deps, ctx: RequestContext): Promise<Response> {
  const body = validateMessagesRequest(await readJsonBody(request, deps.config.maxBodyBytes));
  const requested = body.model ?? deps.config.defaultModel;
  const model = await resolveRequestedModel(requested, request, deps);
  const chat = messagesToChat(body);
  // Counted only when needed: a stream's message_start, or a prompt Qwen found too long.
  let estimated: number | undefined;
  const estimate = () => (estimated ??= estimateChatTokens(chat));
  const reword = (error: GatewayError) => promptTooLong(error, estimate);
  const thinking = body.thinking as { display?: unknown } | undefined;
  const identity = { id: newMessageId(), model: requested, omitThinking: thinking?.display === 'omitted' };
  try {
    return await serveQwenTurn(
      { body: chat, model, stream: body.stream === true, sessionId: sessionIdOf(chat.messages), promptId: ctx.id },
      {
        completion: (completion) => chatToMessage(completion, identity),
        streamEncoder: () => messagesStreamEncoder({ ...identity, estimatedInputTokens: estimate(), requestId: ctx.id, reword }),
        errorBody: (error) => anthropicErrorBody(reword(error), ctx.id),
      },
      request,
      deps,
      ctx,
    );
  } catch (error) {
    throw error instanceof GatewayError ? reword(error) : error;
  }
}

/** POST /v1/messages/count_tokens: an estimate (see estimateChatTokens for the method). */
export async function countTokens(request: Request, deps: Deps): Promise<Response> {
  const body = validateMessagesRequest(await readJsonBody(request, deps.config.maxBodyBytes));
  return Response.json({ input_tokens: estimateChatTokens(messagesToChat(body)) });
}

/**
 * A context overflow in Anthropic's wording, "prompt is too long: N tokens > M maximum": Claude
 * Code's automatic compaction matches on it (clients-and-qwen §2.5). Qwen names only its limit, so
 * N is the gateway's estimate, raised past the limit where the estimate falls short.
 */
function promptTooLong(error: GatewayError, estimate: () => number): GatewayError {
  if (error.failure?.kind !== 'context_overflow') return error;
  const estimated = estimate();
  const limit = error.failure.limit ?? estimated;
  return new GatewayError({
    status: 400,
    type: 'invalid_request_error',
    code: error.code,
    message: `prompt is too long: ${Math.max(estimated, limit + 1)} tokens > ${limit} maximum`,
    failure: error.failure,
  });
}
