import type { GatewayError } from '../errors.ts';

/**
 * A failure after the stream began, as the `error` of a failed Response. The code is what clients
 * act on (Codex: context_length_exceeded → compact the history; rate_limit_exceeded → wait, reading
 * "try again in N s" from the message; server_is_overloaded → back off; anything else → retry the
 * stream), so it follows the failure's classified kind, not Qwen's own code.
 */
export function responseError(error: GatewayError): { code: string; message: string } {
  switch (error.failure?.kind) {
    case 'context_overflow':
      return { code: 'context_length_exceeded', message: error.message };
    case 'quota':
    case 'throttle':
      return { code: 'rate_limit_exceeded', message: withRetryHint(error) };
    case 'overloaded':
      return { code: 'server_is_overloaded', message: error.message };
    default:
      if (error.code === 'context_length_exceeded') return { code: 'context_length_exceeded', message: error.message };
      return { code: error.status === 429 ? 'rate_limit_exceeded' : 'server_error', message: error.status === 429 ? withRetryHint(error) : error.message };
  }
}

/** Codex reads the wait from "try again in N s"; said only when the gateway knows it. */
function withRetryHint(error: GatewayError): string {
  const seconds = Number(error.headers['retry-after']) || (error.failure?.retryAfterMs ? Math.ceil(error.failure.retryAfterMs / 1000) : 0);
  if (!seconds || /try again in/i.test(error.message)) return error.message;
  return `${error.message} Please try again in ${seconds}s.`;
}
