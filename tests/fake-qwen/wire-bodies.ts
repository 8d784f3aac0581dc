/**
 * The exact JSON shapes of the real servers (protocol §1, §2, §5, §6, §9), in DashScope key order.
 * Key order matters: tests of the gateway may compare raw bodies, and JSON.stringify keeps insertion order.
 */
import { randomUUID } from 'node:crypto';
import type { Reply } from './generate-reply.ts';
import type { Scenario } from './scenario.ts';

// ---------------- OAuth ----------------

export const DEAD_REFRESH_DESCRIPTION = 'Invalid refresh token or client_id';

export function oauthError(error: string, description?: string): Record<string, string> {
  return description === undefined ? { error } : { error, error_description: description };
}

export const MISSING_UA_HTML =
  '<!doctype html><html><head><title>Qwen Chat</title></head><body><noscript>You need to enable JavaScript to run this app.</noscript></body></html>';

// ---------------- API errors ----------------

export interface DashScopeError {
  error: { code: string; message: string; param: null; type: string };
  request_id: string;
}

function dashscopeError(code: string, message: string, type: string): DashScopeError {
  return { error: { code, message, param: null, type }, request_id: randomUUID() };
}

export const TOKEN_EXPIRED_MESSAGE = 'invalid access token or token expired';
export const SESSION_EXPIRED_MESSAGE =
  'Your session has expired, or the token is no longer valid. Please sign in again to proceed.';
export const FREE_QUOTA_MESSAGE = 'Free allocated quota exceeded.';
export const CURRENT_QUOTA_MESSAGE =
  'You exceeded your current quota, please check your plan and billing details. For details, see: https://help.aliyun.com/zh/model-studio/error-code#token-limit';

export function unauthorizedError(variant: Scenario['authErrorVariant']): DashScopeError {
  return dashscopeError(
    'invalid_api_key',
    variant === 'session-expired' ? SESSION_EXPIRED_MESSAGE : TOKEN_EXPIRED_MESSAGE,
    'invalid_request_error',
  );
}

/** What DashScope compatible-mode says to an OAuth token (§4). */
export function incorrectApiKeyError(): DashScopeError {
  return dashscopeError('invalid_api_key', 'Incorrect API key provided. ', 'invalid_request_error');
}

export function invalidParameterError(message: string): DashScopeError {
  return dashscopeError('invalid_parameter_error', message, 'invalid_request_error');
}

export function quotaError(variant: Scenario['quotaMessage']): DashScopeError {
  return dashscopeError('insufficient_quota', variant === 'exceeded-current' ? CURRENT_QUOTA_MESSAGE : FREE_QUOTA_MESSAGE, 'insufficient_quota');
}

export function rateLimitError(): DashScopeError {
  return dashscopeError('Throttling.RateQuota', 'Requests rate limit exceeded, please try again later.', 'rate_limit_error');
}

export function internalError(): DashScopeError {
  return dashscopeError(
    'internal_error',
    'An internal error has occured, please try again later or contact service support.',
    'internal_error',
  );
}

export function modelUnavailableError(): DashScopeError {
  return dashscopeError('ModelUnavailable', 'Model is unavailable, please try again later.', 'ModelUnavailable');
}

export function notFoundError(): DashScopeError {
  return dashscopeError('NotFound', 'Not Found', 'invalid_request_error');
}

// ---------------- completions ----------------

export interface ResponseMeta {
  id: string;
  model: string;
  /** Unix seconds, fake clock. */
  created: number;
}

function usage(reply: Reply, explicitCache: boolean, stream: boolean): Record<string, unknown> {
  const base = {
    prompt_tokens: reply.promptTokens,
    completion_tokens: reply.completionTokens,
    total_tokens: reply.promptTokens + reply.completionTokens,
  };
  if (explicitCache) {
    const cached = Math.floor(reply.promptTokens / 2);
    const created = reply.promptTokens - cached;
    return {
      ...base,
      prompt_tokens_details: {
        cached_tokens: cached,
        cache_type: 'ephemeral',
        cache_creation_input_tokens: created,
        cache_creation: { ephemeral_5m_input_tokens: created },
      },
      completion_tokens_details: { reasoning_tokens: Math.ceil([...reply.reasoningChunks.join('')].length / 4) },
    };
  }
  // Non-stream answers carry cached_tokens; the stream usage chunk is the bare triple (§6).
  return stream ? base : { ...base, prompt_tokens_details: { cached_tokens: 0 } };
}

export function completionBody(reply: Reply, meta: ResponseMeta, explicitCache: boolean): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: reply.contentChunks.join('') };
  if (reply.reasoningChunks.length > 0) message.reasoning_content = reply.reasoningChunks.join('');
  if (reply.toolCalls.length > 0) {
    message.content = '';
    message.tool_calls = reply.toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } }));
  }
  return {
    choices: [{ message, finish_reason: reply.finishReason, index: 0, logprobs: null }],
    object: 'chat.completion',
    usage: usage(reply, explicitCache, false),
    created: meta.created,
    system_fingerprint: '',
    model: meta.model,
    id: meta.id,
  };
}

function chunk(meta: ResponseMeta, choices: unknown[], usageValue: unknown = null): Record<string, unknown> {
  return {
    choices,
    object: 'chat.completion.chunk',
    usage: usageValue,
    created: meta.created,
    system_fingerprint: null,
    model: meta.model,
    id: meta.id,
  };
}

function deltaChoice(delta: Record<string, unknown>): Record<string, unknown> {
  return { finish_reason: null, logprobs: null, delta, index: 0 };
}

/** Every data event of a successful stream, in order, without `[DONE]` (§9.2 steps 1–5). */
export function streamChunks(reply: Reply, meta: ResponseMeta, includeUsage: boolean, explicitCache: boolean): Array<Record<string, unknown>> {
  const thinking = reply.reasoningChunks.length > 0;
  const events: Array<Record<string, unknown>> = [];
  events.push(
    chunk(meta, [
      {
        delta: thinking ? { content: null, role: 'assistant', reasoning_content: '' } : { content: '', role: 'assistant' },
        index: 0,
        logprobs: null,
        finish_reason: null,
      },
    ]),
  );
  for (const text of reply.reasoningChunks) events.push(chunk(meta, [deltaChoice({ content: null, reasoning_content: text })]));
  for (const text of reply.contentChunks) events.push(chunk(meta, [deltaChoice({ content: text })]));
  for (const call of reply.toolCalls) {
    events.push(
      chunk(meta, [
        deltaChoice({ tool_calls: [{ index: call.streamIndex, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
      ]),
    );
    for (const fragment of call.fragments) {
      events.push(chunk(meta, [deltaChoice({ tool_calls: [{ index: call.streamIndex, function: { arguments: fragment } }] })]));
    }
  }
  events.push(
    chunk(meta, [{ finish_reason: reply.finishReason, delta: { content: '', reasoning_content: null }, index: 0, logprobs: null }]),
  );
  if (includeUsage) events.push(chunk(meta, [], usage(reply, explicitCache, true)));
  return events;
}

/** DashScope's in-band error: HTTP 200, then a chunk with finish_reason "error_finish" (§5). */
export function errorFinishChunk(meta: ResponseMeta): Record<string, unknown> {
  return chunk(meta, [{ delta: { content: 'Throttling: TPM(1/1)' }, finish_reason: 'error_finish', index: 0 }]);
}

/** DashScope's SSE error frame inside a 200 stream (§5), as raw lines. */
export function sseErrorFrameLines(): string[] {
  const data = JSON.stringify({
    request_id: randomUUID(),
    code: 'Throttling.AllocationQuota',
    message: 'Allocated quota exceeded, please increase your quota limit.',
  });
  return ['id:1', 'event:error', ':HTTP_STATUS/429', `data:${data}`];
}
