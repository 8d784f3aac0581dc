import { GatewayError } from '../errors.ts';
import { classifyUpstreamFailure } from './upstream-failure.ts';

export { isAuthError, isQuotaError } from './upstream-failure.ts';

export interface UpstreamErrorInfo {
  status: number;
  message: string;
  type: string | null;
  code: string | null;
  param: string | null;
}

/**
 * Reads whatever error body Qwen sent (OpenAI shape, DashScope's flat {code,message}, or plain text
 * such as "stream timeout") into one shape.
 */
export async function readUpstreamError(response: Response): Promise<UpstreamErrorInfo> {
  const text = await response.text().catch(() => '');
  return parseUpstreamError(response.status, text);
}

export function parseUpstreamError(status: number, text: string): UpstreamErrorInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const inner = (typeof record.error === 'object' && record.error !== null ? record.error : record) as Record<string, unknown>;
  const asString = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const message =
    asString(inner.message) ??
    asString(record.error) ??
    (text.trim() ? text.trim().slice(0, 500) : `Qwen answered HTTP ${status} with an empty body.`);
  return { status, message, type: asString(inner.type), code: asString(inner.code), param: asString(inner.param) };
}

/**
 * Qwen's error, in OpenAI's shape, with its status kept and its kind classified once (what the
 * account loop and every surface read). A context overflow gets OpenAI's own code for it.
 */
export function upstreamGatewayError(info: UpstreamErrorInfo, headers?: Record<string, string>): GatewayError {
  const failure = classifyUpstreamFailure(info, headers?.['retry-after']);
  if (failure.kind === 'context_overflow') {
    return new GatewayError({
      status: 400,
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
      message: `The prompt is longer than the model's context window${failure.limit ? ` of ${failure.limit} tokens` : ''}; shorten or compact the conversation. (Qwen: ${info.message})`,
      failure,
    });
  }
  return new GatewayError({
    status: info.status >= 400 && info.status <= 599 ? info.status : 502,
    message: info.message,
    ...(info.type ? { type: info.type } : {}),
    param: info.param,
    code: info.code,
    ...(headers ? { headers } : {}),
    failure,
  });
}
