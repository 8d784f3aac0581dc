/**
 * Every runtime knob of the fake Qwen server (protocol §9), with the spec's defaults.
 * Knobs are plain JSON so that `POST /__fake/scenario` can set them from another process.
 * Faults stay on until changed, unless `faultTimes` limits them (see there).
 */
import type { ScriptedTool } from './scripted-tool-model.ts';

/** What the fake answers instead of the real thing on an OAuth endpoint. Numbers are HTTP 5xx. */
export type OAuthFault = 'none' | 'error-body' | 'invalid-json' | 'html' | 500 | 502 | 503;

/** Whole-response faults of the chat endpoint (they apply after auth, validation and quota pass). */
export type ApiFault = 'none' | 500 | 503 | 504 | 'reset';

export interface Scenario {
  // ---- OAuth: device flow (§1, §9.1) ----
  /** `expires_in` of a device code, seconds (fake clock). */
  deviceCodeExpiresInSec: number;
  /** When set, the device-code answer carries `"interval": <n>`; null omits the field (qwen-code ignores it). */
  deviceInterval: number | null;
  /** Fault of `POST /api/v1/oauth2/device/code`: 200 `{error}`, 200 HTML, invalid JSON or a 5xx. */
  deviceCodeFault: OAuthFault;
  /** Polls of one device code closer together than this (fake clock) get `slow_down`. 0 disables. */
  minPollMs: number;
  /** Status of `slow_down`: qwen-code only knows 429; RFC 8628 clients expect 400. */
  slowDownStatus: 400 | 429;
  /** Status of `invalid_grant` for an unknown or already-used device_code (401 drives qwen-code's "expired or invalid" path). */
  invalidDeviceCodeStatus: 400 | 401;
  /** Approve a device code by itself once it has been polled this many times (0 = the first poll succeeds). null = only approveDevice(). */
  autoApproveAfterPolls: number | null;

  // ---- OAuth: tokens (§2, §9.1) ----
  /** `expires_in` of issued access tokens, seconds. Expiry is judged by the fake clock. */
  accessTokenExpiresInSec: number;
  /** Refresh tokens are single-use: a refresh returns a new one and kills the presented one. false: no new one, the old one stays valid. */
  rotateRefresh: boolean;
  /** A refresh also kills the access token issued together with the presented refresh token. */
  revokeOldAccessOnRefresh: boolean;
  /** The refresh answer has no `resource_url` (clients must keep the old one). */
  omitResourceUrlOnRefresh: boolean;
  /** Status for a dead/unknown/rotated/revoked refresh token or a wrong client_id. */
  deadRefreshStatus: 400 | 401;
  /** `error` code for a dead refresh token (the description is always the real "Invalid refresh token or client_id"). */
  deadRefreshError: 'invalid_request' | 'invalid_grant';
  /** Fault of the refresh_token grant. The presented token is NOT consumed by a fault. */
  refreshFault: OAuthFault;
  /** Body of a 5xx fault (device code or refresh): JSON `{error,error_description}` or plain text. */
  oauthFaultBody: 'json' | 'text';
  /** Wait this long (real ms) before answering a refresh, to make concurrent refreshes overlap. */
  refreshLatencyMs: number;
  /** Without a usable User-Agent (missing, empty, or a bare runtime default `node`/`undici`) the OAuth endpoints answer like the real WAF did. */
  requireUserAgent: boolean;
  /** How a request without a User-Agent is answered: 200 text/html, or 302 to /login (which is HTML). */
  missingUserAgentAnswer: 'html' | 'redirect';
  /** Style of `resource_url` in token answers and mintCredentials(): bare "127.0.0.1:<B>" (like "portal.qwen.ai"), "http://127.0.0.1:<B>", "http://127.0.0.1:<B>/v1", or omitted. */
  resourceUrlStyle: 'bare' | 'http' | 'http-v1' | 'omit';

  // ---- API: auth, validation (§9.2) ----
  /** Message of the 401: the usual one, or the "Your session has expired…" variant. */
  authErrorVariant: 'token-expired' | 'session-expired';
  /** The free tier is gone: every API call answers the 401 (post-2026-04-15 reality). */
  discontinued: boolean;
  /** Require qwen-code's headers (X-DashScope-AuthType/CacheControl, QwenCode/ UA) and a leading system message; else 400 "bad request". */
  strict: boolean;
  /** Models the portal accepts; others get 400 "model `x` is not supported.". */
  allowedModels: string[];
  /** Output limit per model for `max_tokens`; models not listed use 65536. */
  maxOutputTokens: Record<string, number>;
  /**
   * The model's input limit in tokens (about four characters of the messages' JSON each): a longer
   * prompt gets Qwen's 400 "Range of input length should be [1, N]" (clients-and-qwen §1.6-4). null: no limit.
   */
  maxInputTokens: number | null;
  /** The model reasons (reasoning_content) unless the request says `enable_thinking: false`. */
  thinkByDefault: boolean;
  /** Usage carries the explicit-cache details (cache_type, cache_creation…, reasoning_tokens). */
  explicitCacheUsage: boolean;

  // ---- API: quota and throttle (per account = per token lineage) ----
  /** Successful chat calls per account per day; 0 makes every call a quota error; null = unlimited. */
  dailyQuota: number | null;
  /** Where the quota day starts: 00:00 Asia/Shanghai (real) or UTC. */
  quotaResetTimeZone: 'Asia/Shanghai' | 'UTC';
  /** Status of the quota error: 429 (qwen-code) or 403 (what CLIProxyAPI reports). */
  quotaStatus: 429 | 403;
  /** "Free allocated quota exceeded." or the "You exceeded your current quota…" variant. */
  quotaMessage: 'free-allocated' | 'exceeded-current';
  /** Chat calls per account per rolling 60 s of the fake clock; null = unlimited. */
  rpmLimit: number | null;
  /** Add `Retry-After` (seconds until the window frees a slot) to the rpm 429. */
  rpmRetryAfter: boolean;

  // ---- API: faults and timing ----
  /** 500 internal_error, 503 ModelUnavailable, 504 text "stream timeout", or a connection reset. */
  apiFault: ApiFault;
  /** Delay (real ms) before the status line of a chat answer (stream or not): slow first byte. */
  firstByteDelayMs: number;
  /** Delay (real ms) between stream events. */
  chunkDelayMs: number;
  /** Send this many data events, then nothing until the client goes away. */
  stallAfterChunks: number | null;
  /** Send this many data events, then destroy the socket. */
  resetAfterChunks: number | null;
  /** Replace the stream, after `streamFaultAfterChunks` events, by a `finish_reason:"error_finish"` chunk ("Throttling: TPM(1/1)") and close. */
  errorFinish: boolean;
  /** Replace the stream, after `streamFaultAfterChunks` events, by a DashScope `event:error` frame (HTTP 200) and close. */
  sseErrorFrame: boolean;
  /** Data events written before the errorFinish / sseErrorFrame fault (0 = the fault is the first event). */
  streamFaultAfterChunks: number;
  /** Close the stream without `data: [DONE]`. */
  noDone: boolean;
  /** Put the reasoning into `content` as `<think>…</think>` instead of reasoning_content. */
  thinkTagLeak: boolean;
  /** Tool-call streams reuse `index: 0` for a second call with a new id. */
  toolIndexCollision: boolean;
  /** Play a model that calls this tool once, then quotes its result (scripted-tool-model.ts); null = off. */
  scriptedTool: ScriptedTool | null;
  /**
   * Write the SSE bytes in pieces of this many bytes (a list cycles), across event, line and UTF-8
   * character boundaries. Each piece is its own write after a setImmediate, so the client really
   * reads them separately; that costs ≈70 µs per piece, so keep split streams to a few tens of KB.
   */
  sseSplit: number | number[] | null;
  /** Use CRLF line endings in the SSE output. */
  sseCrlf: boolean;
  /** Write `data:<json>` without the space. */
  sseNoSpace: boolean;
  /** Write `: keep-alive` comment lines before and between events. */
  sseComments: boolean;

  // ---- optional endpoints ----
  /** `GET /v1/models`: 404 (unverified on portal, default) or an OpenAI list of allowedModels. */
  modelsEndpoint: 'not-found' | 'list';
  /** `POST /api/v1/indices/plugin/web_search` answers (else 404). */
  webSearch: boolean;

  /**
   * Limit a fault knob to its next N firings: `{ refreshFault: 1 }` makes the next refresh fail and
   * then puts `refreshFault` back to its default. Keys are knob names; a knob fires when it changes an
   * answer. setScenario replaces the whole map.
   */
  faultTimes: Partial<Record<keyof Scenario, number>>;
}

export const QWEN_CLIENT_ID = 'f0304373b74a44d2b584a3fb70ca9e56';

export function defaultScenario(): Scenario {
  return {
    deviceCodeExpiresInSec: 900,
    deviceInterval: null,
    deviceCodeFault: 'none',
    minPollMs: 0,
    slowDownStatus: 429,
    invalidDeviceCodeStatus: 400,
    autoApproveAfterPolls: null,

    accessTokenExpiresInSec: 3600,
    rotateRefresh: true,
    revokeOldAccessOnRefresh: false,
    omitResourceUrlOnRefresh: false,
    deadRefreshStatus: 400,
    deadRefreshError: 'invalid_request',
    refreshFault: 'none',
    oauthFaultBody: 'json',
    refreshLatencyMs: 0,
    requireUserAgent: false,
    missingUserAgentAnswer: 'html',
    resourceUrlStyle: 'bare',

    authErrorVariant: 'token-expired',
    discontinued: false,
    strict: false,
    allowedModels: ['coder-model', 'vision-model', 'qwen3-coder-plus', 'qwen3-coder-flash'],
    maxOutputTokens: { 'coder-model': 65536, 'qwen3-coder-plus': 65536, 'qwen3-coder-flash': 32768, 'vision-model': 8192 },
    maxInputTokens: null,
    thinkByDefault: false,
    explicitCacheUsage: false,

    dailyQuota: 2000,
    quotaResetTimeZone: 'Asia/Shanghai',
    quotaStatus: 429,
    quotaMessage: 'free-allocated',
    rpmLimit: 60,
    rpmRetryAfter: false,

    apiFault: 'none',
    firstByteDelayMs: 0,
    chunkDelayMs: 0,
    stallAfterChunks: null,
    resetAfterChunks: null,
    errorFinish: false,
    sseErrorFrame: false,
    streamFaultAfterChunks: 0,
    noDone: false,
    thinkTagLeak: false,
    toolIndexCollision: false,
    scriptedTool: null,
    sseSplit: null,
    sseCrlf: false,
    sseNoSpace: false,
    sseComments: false,

    modelsEndpoint: 'not-found',
    webSearch: true,

    faultTimes: {},
  };
}

/** Names of all knobs, to reject typos arriving over HTTP. */
export const SCENARIO_KEYS: ReadonlySet<string> = new Set(Object.keys(defaultScenario()));
