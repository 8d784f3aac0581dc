/**
 * The gateway's one error type. Everything that goes wrong and reaches a client is a GatewayError
 * rendered by toErrorResponse (before headers are sent) or toErrorEvent (inside a stream), so every
 * client sees OpenAI's error body: {"error":{"message","type","param","code"}}.
 */
export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error'
  | 'timeout_error'
  | (string & {});

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface GatewayErrorInit {
  status: number;
  message: string;
  type?: OpenAIErrorType;
  param?: string | null;
  code?: string | null;
  /** Extra response headers, e.g. Retry-After or x-should-retry. */
  headers?: Record<string, string>;
  /** What kind of upstream failure this is, when it is one (see lib/qwen/upstream-failure.ts). */
  failure?: UpstreamFailure;
  cause?: unknown;
}

/**
 * An upstream failure, classified once where it is first seen. The account loop decides from `kind`
 * alone whether the request may move to another account, and each surface words it its own way.
 */
export interface UpstreamFailure {
  kind:
    | 'quota' // the account's allowance is spent: rest it until `resetAt`
    | 'throttle' // a rate limit: rest it for `retryAfterMs`
    | 'credentials' // the account's credentials are dead: it needs a new login
    | 'refresh_failed' // a refresh could not be done now: another account may serve
    | 'context_overflow' // the prompt does not fit the model: `limit` tokens
    | 'overloaded' // Qwen itself is out of capacity, for everyone
    | 'other';
  /** Epoch ms when a quota resets: the time Qwen stated, or its window's roll-over. */
  resetAt?: number;
  /** Which allowance a quota error spent: the OAuth day, a plan's 5-hour, weekly or monthly window. */
  window?: 'day' | '5h' | 'week' | 'month';
  retryAfterMs?: number;
  /** The model's input limit in tokens, for context_overflow. */
  limit?: number;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;
  readonly failure: UpstreamFailure | undefined;

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatewayError';
    this.status = init.status;
    this.type = init.type ?? defaultType(init.status);
    this.param = init.param ?? null;
    this.code = init.code ?? null;
    this.headers = init.headers ?? {};
    this.failure = init.failure;
  }

  /** Plain fields for crossing an RPC boundary (a Durable Object call), rebuilt with fromRpc. */
  toRpc(): GatewayErrorInit {
    return {
      status: this.status,
      message: this.message,
      type: this.type,
      param: this.param,
      code: this.code,
      headers: this.headers,
      ...(this.failure ? { failure: this.failure } : {}),
    };
  }

  static fromRpc(init: GatewayErrorInit): GatewayError {
    return new GatewayError(init);
  }

  toJSON(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

function defaultType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError({ status: 400, message, param, code });

/**
 * An account whose credentials Qwen will not take (a spent refresh token, a rejected key): the
 * operator's to fix, so a 503 the SDKs do not retry, never a 401 that would blame the client's key.
 * The account loop takes it out of rotation and moves on.
 */
export const deadCredentials = (code: string, message: string) =>
  new GatewayError({ status: 503, type: 'server_error', code, message, failure: { kind: 'credentials' }, headers: { 'x-should-retry': 'false' } });

/** Anything thrown that is not a GatewayError is a bug or an unexpected runtime failure. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError({
    status: 500,
    message: 'The gateway hit an unexpected error. It has been logged; please retry.',
    code: 'internal_error',
    cause: error,
  });
}

export function toErrorResponse(error: GatewayError, headers?: HeadersInit): Response {
  const out = new Headers(headers);
  out.set('content-type', 'application/json');
  for (const [name, value] of Object.entries(error.headers)) out.set(name, value);
  return new Response(JSON.stringify(error.toJSON()), { status: error.status, headers: out });
}

/** The SSE frame an error becomes once stream headers are on the wire. */
export function toErrorEvent(error: GatewayError): string {
  return `data: ${JSON.stringify(error.toJSON())}\n\n`;
}
