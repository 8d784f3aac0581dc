import { qwenCliAuthProblem } from './credentials/parse-qwen-cli-auth.ts';
import { GatewayError } from './errors.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { parseQwenKeys, type QwenKeySpec } from './qwen/providers.ts';

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
  /**
   * Qwen API keys, served beside or instead of OAuth accounts: QWEN_API_KEY (comma-separated, all of
   * the QWEN_PROVIDER preset) and QWEN_API_KEYS (a JSON array, one provider per key); see providers.ts.
   */
  qwenKeys: QwenKeySpec[];
  /** What is wrong with the keys' configuration; non-empty means the pool refuses to serve (503). */
  qwenKeyProblems: string[];
  /** OPENAI_MODELS was set: the served list is the operator's, not discovered from the providers. */
  modelsExplicit: boolean;
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
  /**
   * Settings that were set but are not usable. Collected rather than thrown, so the host entry still
   * starts and /health still answers; every other route answers 503 gateway_misconfigured.
   */
  problems: ConfigProblem[];
}

/** A setting the gateway refuses to guess about: which variable, and what it accepts. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export const VERSION = '0.1.0';

/** Qwen Code's own default model for OAuth and the models OAuth credentials can use (protocol §6). */
export const DEFAULT_MODEL = 'coder-model';
export const OAUTH_MODELS = ['coder-model', 'vision-model', 'qwen3-coder-plus', 'qwen3-coder-flash'];
export const DEFAULT_DASHSCOPE_BASE_URL = 'https://dashscope.aliyuncs.com/compatible-mode/v1';
export const DEFAULT_QWEN_OAUTH_BASE_URL = 'https://chat.qwen.ai';

export type Env = Record<string, unknown>;

export function loadConfig(env: Env): Config {
  const problems: ConfigProblem[] = [];
  const str = (name: string): string | undefined => {
    const value = env[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  // A typo in a number must not quietly become the default (or 0, which means "never" for some).
  const num = (name: string, fallback: number, min: 0 | 1, unit: string): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isFinite(value) && value >= min) return value;
    const accepted = min === 0 ? 'a number of 0 or more' : 'a number greater than 0';
    problems.push({ variable: name, message: `${name}=${JSON.stringify(raw)} is not ${accepted} (${unit}; default ${fallback}).` });
    return fallback;
  };
  const list = (name: string): string[] =>
    (str(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const level = str('LOG_LEVEL')?.toLowerCase();
  const authProblem = qwenCliAuthProblem(typeof env.QWEN_CLI_AUTH === 'string' ? env.QWEN_CLI_AUTH : undefined);
  if (authProblem) problems.push({ variable: 'QWEN_CLI_AUTH', message: authProblem });
  // An unknown provider or a key of the wrong kind would send the keys to the wrong endpoint.
  const { keys: qwenKeys, problems: qwenKeyProblems } = parseQwenKeys({
    apiKeys: list('QWEN_API_KEY'),
    provider: str('QWEN_PROVIDER')?.toLowerCase(),
    keysJson: str('QWEN_API_KEYS'),
    explicitBaseUrl: str('OPENAI_BASE_URL'),
  });
  for (const message of qwenKeyProblems) {
    const variable = ['QWEN_API_KEYS', 'QWEN_PROVIDER', 'QWEN_API_KEY'].find((name) => message.includes(name)) ?? 'QWEN_API_KEY';
    problems.push({ variable, message });
  }
  const hasOAuth = typeof env.QWEN_CLI_AUTH === 'string' && env.QWEN_CLI_AUTH.trim() !== '';
  const presets = qwenKeys.map((k) => k.preset);
  const explicitModels = list('OPENAI_MODELS');
  const models =
    explicitModels.length > 0
      ? explicitModels
      : [...new Set([...(hasOAuth || presets.length === 0 ? OAUTH_MODELS : []), ...presets.flatMap((p) => p.models)])];
  const aliases: Record<string, string> = {};
  // Coding Plan names that OAuth accounts refuse; Qwen Code's own answer to them is coder-model.
  if (models.includes('coder-model')) for (const name of ['qwen3.5-plus', 'qwen3.6-plus']) aliases[name] = 'coder-model';
  const parsedAliases = parseAliases(str('MODEL_ALIASES'));
  if (typeof parsedAliases === 'string') problems.push({ variable: 'MODEL_ALIASES', message: parsedAliases });
  else Object.assign(aliases, parsedAliases);
  return {
    qwenCliAuth: typeof env.QWEN_CLI_AUTH === 'string' ? env.QWEN_CLI_AUTH : undefined,
    apiKeys: list('OPENAI_API_KEY'),
    adminApiKeys: list('ADMIN_API_KEY'),
    defaultModel: str('OPENAI_MODEL') ?? (hasOAuth || presets.length === 0 ? DEFAULT_MODEL : presets[0]!.defaultModel),
    models,
    modelAliases: aliases,
    openaiBaseUrl: str('OPENAI_BASE_URL') ?? DEFAULT_DASHSCOPE_BASE_URL,
    explicitBaseUrl: str('OPENAI_BASE_URL'),
    qwenKeys,
    qwenKeyProblems,
    modelsExplicit: explicitModels.length > 0,
    oauthBaseUrl: (str('QWEN_OAUTH_BASE_URL') ?? DEFAULT_QWEN_OAUTH_BASE_URL).replace(/\/+$/, ''),
    logLevel: LOG_LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info',
    maxBodyBytes: num('MAX_BODY_BYTES', 16 * 1024 * 1024, 1, 'bytes'),
    keepAliveMs: num('KEEPALIVE_INTERVAL_MS', 15_000, 1, 'milliseconds'),
    upstreamIdleTimeoutMs: num('UPSTREAM_IDLE_TIMEOUT_MS', 300_000, 1, 'milliseconds'),
    upstreamConnectTimeoutMs: num('UPSTREAM_CONNECT_TIMEOUT_MS', 120_000, 1, 'milliseconds'),
    responseStartTimeoutMs: num('RESPONSE_START_TIMEOUT_MS', 0, 0, 'milliseconds, 0 = off'),
    responsesStore: !['off', 'false', '0', 'no'].includes(str('RESPONSES_STORE')?.toLowerCase() ?? ''),
    responsesStoreTtlMs: num('RESPONSES_STORE_TTL_MS', 30 * 24 * 3600 * 1000, 1, 'milliseconds'),
    version: VERSION,
    problems,
  };
}

/** The answer of every route a configuration problem affects (all but /health). */
export function misconfigured(problems: ConfigProblem[]): GatewayError {
  return new GatewayError({
    status: 503,
    type: 'server_error',
    code: 'gateway_misconfigured',
    message: `The gateway is misconfigured: ${problems.map((p) => p.message).join(' ')} Fix the setting and redeploy.`,
    headers: { 'x-should-retry': 'false' },
  });
}

/** MODEL_ALIASES: {"gpt-4o":"coder-model",...}; anything else is a problem (its description). */
function parseAliases(raw: string | undefined): Record<string, string> | string {
  if (!raw) return {};
  const accepted = 'accepted: a JSON object of model names, e.g. {"gpt-4o":"coder-model"}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    return `MODEL_ALIASES is not valid JSON (${error instanceof Error ? error.message : String(error)}); ${accepted}.`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return `MODEL_ALIASES is not a JSON object; ${accepted}.`;
  const bad = Object.entries(parsed).filter(([, v]) => typeof v !== 'string' || v.trim() === '').map(([k]) => k);
  if (bad.length > 0) return `MODEL_ALIASES maps ${bad.map((k) => JSON.stringify(k)).join(', ')} to something other than a model name; ${accepted}.`;
  return parsed as Record<string, string>;
}
