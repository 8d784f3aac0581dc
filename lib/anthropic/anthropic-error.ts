import type { GatewayError } from '../errors.ts';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id: string | null;
}

/**
 * The gateway's error in Anthropic's words (docs.claude.com /en/api/errors): the type follows the
 * status, and Qwen being overloaded for everyone is Anthropic's 529, which Claude Code waits out
 * (and after which it may switch to its fallback model) rather than treating as the caller's limit.
 */
export function anthropicErrorBody(error: GatewayError, requestId?: string): AnthropicErrorBody {
  return {
    type: 'error',
    error: { type: anthropicErrorType(error), message: error.message },
    request_id: requestId ?? null,
  };
}

/** The status an error is answered with on the Anthropic routes. */
export function anthropicStatus(error: GatewayError): number {
  return error.failure?.kind === 'overloaded' ? 529 : error.status;
}

function anthropicErrorType(error: GatewayError): string {
  if (error.failure?.kind === 'overloaded') return 'overloaded_error';
  switch (error.status) {
    case 400:
    case 405:
    case 415:
    case 422:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return error.status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export function toAnthropicErrorResponse(error: GatewayError, requestId: string): Response {
  const headers = new Headers({ 'content-type': 'application/json', 'request-id': requestId });
  for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  return new Response(JSON.stringify(anthropicErrorBody(error, requestId)), { status: anthropicStatus(error), headers });
}

/** The in-band error that ends an Anthropic stream that failed after its 200 went out. */
export function anthropicErrorEvent(error: GatewayError, requestId: string): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(error, requestId))}\n\n`;
}
