import type { ChatRequest } from '../openai/validate-chat-request.ts';
import type { UpstreamAccess } from '../accounts/token-source.ts';
import { QWEN_CODE_USER_AGENT } from './constants.ts';
import { toQwenMessages } from './to-qwen-messages.ts';

export interface QwenCall {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  stream: boolean;
}

/**
 * The request Qwen receives for a client's chat completion. The client's fields pass through
 * (its `model` is honoured); what changes, changes because Qwen needs it:
 * - roles Qwen refuses are mapped to the ones it accepts (toQwenMessages);
 * - `max_completion_tokens` becomes `max_tokens`, the only name Qwen reads (protocol §4);
 * - streams always ask for usage, which the gateway needs for its own accounting; whether the
 *   client sees the usage chunk is decided on the way back.
 */
export function buildQwenRequest(request: ChatRequest, access: UpstreamAccess, model: string): QwenCall {
  const { max_completion_tokens, stream_options, ...rest } = request as Record<string, unknown>;
  const stream = request.stream === true;
  const body: Record<string, unknown> = { ...rest, model, messages: toQwenMessages(request.messages as never) };
  if (body.max_tokens == null && typeof max_completion_tokens === 'number') body.max_tokens = max_completion_tokens;
  if (stream) body.stream_options = { ...(stream_options as object | null), include_usage: true };
  else delete body.stream_options;
  return {
    url: `${access.baseUrl}/chat/completions`,
    headers: qwenHeaders(access, stream),
    body,
    stream,
  };
}

/** The headers Qwen Code sends (protocol §4); the DashScope ones only where they belong (OAuth). */
export function qwenHeaders(access: UpstreamAccess, stream: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${access.token}`,
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'user-agent': QWEN_CODE_USER_AGENT,
  };
  if (access.kind === 'qwen-oauth') {
    headers['x-dashscope-cachecontrol'] = 'enable';
    headers['x-dashscope-useragent'] = QWEN_CODE_USER_AGENT;
    headers['x-dashscope-authtype'] = 'qwen-oauth';
  }
  return headers;
}
