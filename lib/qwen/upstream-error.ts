import { GatewayError } from '../errors.ts';

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

/** Qwen's quota error: 429 or 403 carrying insufficient_quota / "Free allocated quota exceeded" (protocol §5). */
export function isQuotaError(info: UpstreamErrorInfo): boolean {
  if (info.status !== 429 && info.status !== 403) return false;
  const text = `${info.code ?? ''} ${info.type ?? ''} ${info.message}`.toLowerCase();
  return text.includes('insufficient_quota') || text.includes('quota_exceeded') || text.includes('free allocated quota exceeded');
}

/** A 401/403 that a refresh can fix (anything auth-like that is not the quota error). */
export function isAuthError(info: UpstreamErrorInfo): boolean {
  return (info.status === 401 || info.status === 403) && !isQuotaError(info);
}

/** Qwen's error, in OpenAI's shape, with its status kept. */
export function upstreamGatewayError(info: UpstreamErrorInfo, headers?: Record<string, string>): GatewayError {
  return new GatewayError({
    status: info.status >= 400 && info.status <= 599 ? info.status : 502,
    message: info.message,
    ...(info.type ? { type: info.type } : {}),
    param: info.param,
    code: info.code,
    ...(headers ? { headers } : {}),
  });
}
