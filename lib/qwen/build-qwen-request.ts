import type { ChatRequest } from '../openai/validate-chat-request.ts';
import type { UpstreamAccess } from '../accounts/token-source.ts';
import { QWEN_CODE_USER_AGENT } from './constants.ts';
import { toQwenMessages } from './to-qwen-messages.ts';
import { shapeQwenBody } from './shape-qwen-body.ts';
import { QWEN_MODEL_LIMITS } from './model-limits.ts';

export interface QwenCall {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  stream: boolean;
}

/** Qwen Code's ids for a prompt (per request) and the session it belongs to (per conversation). */
export interface QwenPromptIds {
  sessionId: string;
  promptId: string;
}

/**
 * The request Qwen receives for a client's chat completion. The client's fields pass through
 * (its `model` is honoured); what changes, changes because Qwen needs it:
 * - roles Qwen refuses are mapped to the ones it accepts (toQwenMessages);
 * - the body is shaped as Qwen Code shapes it (shapeQwenBody): `max_tokens` (the only name Qwen
 *   reads) clamped to the model's limit, reasoning effort as enable_thinking, tool schemas cleaned,
 *   fields Qwen refuses dropped, and for OAuth accounts Qwen Code's metadata and cache markers;
 * - streams always ask for usage, which the gateway needs for its own accounting; whether the
 *   client sees the usage chunk is decided on the way back.
 */
export function buildQwenRequest(
  request: ChatRequest,
  access: UpstreamAccess,
  model: string,
  ids: QwenPromptIds,
  clientUserAgent?: string | null,
): QwenCall {
  const stream = request.stream === true;
  const body = shapeQwenBody(
    { ...(request as Record<string, unknown>), model, messages: toQwenMessages(request.messages as never) },
    { stream, oauth: access.kind === 'qwen-oauth', ...ids, modelLimits: QWEN_MODEL_LIMITS },
  );
  return {
    url: `${access.baseUrl}/chat/completions`,
    headers: qwenHeaders(access, stream, clientUserAgent),
    body,
    stream,
  };
}

/**
 * The headers Qwen Code sends (protocol §4); the DashScope ones only where they belong (OAuth).
 * Plan endpoints get the client's own User-Agent, or none: their terms allow coding tools only, and
 * presenting every client as Qwen Code there would misrepresent who is calling.
 */
export function qwenHeaders(access: UpstreamAccess, stream: boolean, clientUserAgent?: string | null): Record<string, string> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${access.token}`,
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
  };
  if (!access.forwardUserAgent) headers['user-agent'] = QWEN_CODE_USER_AGENT;
  else if (clientUserAgent) headers['user-agent'] = clientUserAgent;
  if (access.kind === 'qwen-oauth') {
    headers['x-dashscope-cachecontrol'] = 'enable';
    headers['x-dashscope-useragent'] = QWEN_CODE_USER_AGENT;
    headers['x-dashscope-authtype'] = 'qwen-oauth';
  }
  return headers;
}
