import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { presetFor } from './qwen/providers.ts';

/** Every setting the gateway reads, already parsed. Built once per isolate from the host's env. */
export interface Config {
  /** Raw QWEN_CLI_AUTH; parsed (asynchronously, it hashes) by the account pool. */
  qwenCliAuth: string | undefined;
  /** Client API keys; empty means the gateway is open. */
  apiKeys: string[];
  /** Keys for the operator's status page; empty means the client keys are accepted there. */
  adminApiKeys: string[];
  defaultModel: string;
  models: string[];
  /** Upstream base URL for credentials without resource_url. */
  openaiBaseUrl: string;
  /** OPENAI_BASE_URL as set; for Qwen API keys it overrides the provider preset. */
  explicitBaseUrl: string | undefined;
  /** Qwen API keys (QWEN_API_KEY, comma-separated), served beside or instead of OAuth accounts. */
  qwenApiKeys: string[];
  /** QWEN_PROVIDER: which preset the API keys belong to (see lib/qwen/providers.ts). */
  qwenProvider: string | undefined;
  /** Client model names mapped to served ones (MODEL_ALIASES, a JSON object). */
  modelAliases: Record<string, string>;
  oauthBaseUrl: string;
  logLevel: LogLevel;
  maxBodyBytes: number;
  /** Silence after which an SSE comment is sent to keep clients and proxies from giving up. */
  keepAliveMs: number;
  /** Upstream silence mid-stream after which the stream is cut with an error frame. */
  upstreamIdleTimeoutMs: number;
  /** Time allowed until Qwen's response headers arrive; past it the client gets a 504. */
  upstreamConnectTimeoutMs: number;
  /**
   * Non-streaming answers not ready after this long commit to a 200 and keep the connection alive
   * with leading whitespace (0 = never). Vercel's Edge Functions must start a response within 25 s.
   */
  responseStartTimeoutMs: number;
  /** Stored Responses API responses (`store`, `previous_response_id`); RESPONSES_STORE=off turns them off. */
  responsesStore: boolean;
  /** How long a stored response is kept (RESPONSES_STORE_TTL_MS; OpenAI keeps them 30 days). */
  responsesStoreTtlMs: number;
  version: string;
}

export const VERSION = '0.1.0';

/** Qwen Code's own default model for OAuth and the models OAuth credentials can use (protocol §6). */
export const DEFAULT_MODEL = 'coder-model';
export const OAUTH_MODELS = ['coder-model', 'vision-model', 'qwen3-coder-plus', 'qwen3-coder-flash'];
export const DEFAULT_DASHSCOPE_BASE_URL = 'https://dashscope.aliyuncs.com/compatible-mode/v1';
export const DEFAULT_QWEN_OAUTH_BASE_URL = 'https://chat.qwen.ai';

export type Env = Record<string, unknown>;

export function loadConfig(env: Env): Config {
  const str = (name: string): string | undefined => {
    const value = env[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const int = (name: string, fallback: number): number => {
    const value = Number(str(name));
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  const list = (name: string): string[] =>
    (str(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const level = str('LOG_LEVEL')?.toLowerCase();
  const qwenApiKeys = list('QWEN_API_KEY');
  const qwenProvider = str('QWEN_PROVIDER')?.toLowerCase();
  const hasOAuth = typeof env.QWEN_CLI_AUTH === 'string' && env.QWEN_CLI_AUTH.trim() !== '';
  const presets = qwenApiKeys.map((key) => presetFor(key, qwenProvider));
  const explicitModels = list('OPENAI_MODELS');
  const models =
    explicitModels.length > 0
      ? explicitModels
      : [...new Set([...(hasOAuth || presets.length === 0 ? OAUTH_MODELS : []), ...presets.flatMap((p) => p.models)])];
  const aliases: Record<string, string> = {};
  // Coding Plan names that OAuth accounts refuse; Qwen Code's own answer to them is coder-model.
  if (models.includes('coder-model')) for (const name of ['qwen3.5-plus', 'qwen3.6-plus']) aliases[name] = 'coder-model';
  Object.assign(aliases, parseAliases(str('MODEL_ALIASES')));
  return {
    qwenCliAuth: typeof env.QWEN_CLI_AUTH === 'string' ? env.QWEN_CLI_AUTH : undefined,
    apiKeys: list('OPENAI_API_KEY'),
    adminApiKeys: list('ADMIN_API_KEY'),
    defaultModel: str('OPENAI_MODEL') ?? (hasOAuth || presets.length === 0 ? DEFAULT_MODEL : presets[0]!.defaultModel),
    models,
    modelAliases: aliases,
    openaiBaseUrl: str('OPENAI_BASE_URL') ?? DEFAULT_DASHSCOPE_BASE_URL,
    explicitBaseUrl: str('OPENAI_BASE_URL'),
    qwenApiKeys,
    qwenProvider,
    oauthBaseUrl: (str('QWEN_OAUTH_BASE_URL') ?? DEFAULT_QWEN_OAUTH_BASE_URL).replace(/\/+$/, ''),
    logLevel: LOG_LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info',
    maxBodyBytes: int('MAX_BODY_BYTES', 16 * 1024 * 1024),
    keepAliveMs: int('KEEPALIVE_INTERVAL_MS', 15_000),
    upstreamIdleTimeoutMs: int('UPSTREAM_IDLE_TIMEOUT_MS', 300_000),
    upstreamConnectTimeoutMs: int('UPSTREAM_CONNECT_TIMEOUT_MS', 120_000),
    responseStartTimeoutMs: Number(str('RESPONSE_START_TIMEOUT_MS') ?? 0) || 0,
    responsesStore: !['off', 'false', '0', 'no'].includes(str('RESPONSES_STORE')?.toLowerCase() ?? ''),
    responsesStoreTtlMs: int('RESPONSES_STORE_TTL_MS', 30 * 24 * 3600 * 1000),
    version: VERSION,
  };
}

/** MODEL_ALIASES: {"gpt-4o":"coder-model",...}; anything else is ignored rather than fatal. */
function parseAliases(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  } catch {
    return {};
  }
}
