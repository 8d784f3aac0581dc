/**
 * Where a Qwen API key is used. Qwen's OAuth free tier ended on 2026-04-15; people now buy one of
 * Alibaba Cloud Model Studio's plans (Coding Plan, Token Plan), pay as they go on DashScope, or use
 * ModelScope's free API-Inference. Each preset is an OpenAI-compatible endpoint with its own keys:
 * a key of one kind is refused (401/403) by the others, so the gateway checks the pairing at start.
 *
 * Sources (clients-and-qwen-2026 §1.2–1.5): Qwen Code's presets `alibaba-coding-plan.ts` @57105a2,
 * `alibaba-token-plan.ts` @14cd7b5, `alibaba-standard.ts` @1eb8b06, `modelscope.ts` @57105a2;
 * alibabacloud.com `/help/en/model-studio/base-url` and `/coding-plan-faq`.
 */
export type ProviderKind = 'coding-plan' | 'token-plan' | 'dashscope' | 'modelscope';

export interface ProviderPreset {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  /** Built-in model list, used when the provider's `GET /models` is unavailable. */
  models: string[];
  defaultModel: string;
  /**
   * A subscription plan whose terms allow coding tools only, and whose endpoint refuses clients it
   * does not recognise as coding agents ("Coding Plan is currently only available for Coding
   * Agents", 405): the client's own User-Agent is forwarded, never one the gateway made up.
   */
  plan: boolean;
  /** Workspace-domain region code (`https://{WorkspaceId}.{region}.maas.aliyuncs.com`), DashScope only. */
  workspaceRegion?: string;
}

// Qwen Code's Coding Plan catalog (@57105a2), the same on both regions.
const CODING_PLAN_MODELS = [
  'qwen3-coder-plus',
  'qwen3.5-plus',
  'qwen3.6-plus',
  'qwen3.7-plus',
  'qwen3-coder-next',
  'qwen3-max-2026-01-23',
  'glm-5',
  'glm-4.7',
  'kimi-k2.5',
  'MiniMax-M2.5',
];
// Qwen Code's Token Plan catalog (@14cd7b5); the personal tier unlocks only some of them (pi PR #6858).
const TOKEN_PLAN_MODELS = [
  'qwen3.7-plus',
  'qwen3.6-plus',
  'qwen3.7-max',
  'qwen3.6-flash',
  'deepseek-v4-pro',
  'deepseek-v4-flash',
  'kimi-k2.6',
  'kimi-k2.5',
  'glm-5.1',
  'glm-5',
  'MiniMax-M2.5',
];
// Pay-as-you-go: the coder models plus Qwen Code's "Standard API Key" catalog (@1eb8b06).
const DASHSCOPE_MODELS = [
  'qwen3-coder-plus',
  'qwen3-coder-flash',
  'qwen3.6-plus',
  'qwen3.7-plus',
  'qwen3.7-max',
  'qwen3-max',
  'qwen3.6-flash',
  'glm-5.1',
  'kimi-k2.6',
  'deepseek-v4-pro',
  'deepseek-v4-flash',
];
const MODELSCOPE_MODELS = ['Qwen/Qwen3.5-397B-A17B', 'Qwen/Qwen3-Coder-480B-A35B-Instruct', 'deepseek-ai/DeepSeek-V4-Flash', 'ZhipuAI/GLM-5.1'];

const dashscope = (name: string, host: string, workspaceRegion: string): ProviderPreset => ({
  name,
  kind: 'dashscope',
  baseUrl: `https://${host}/compatible-mode/v1`,
  models: DASHSCOPE_MODELS,
  defaultModel: 'qwen3-coder-plus',
  plan: false,
  workspaceRegion,
});

export const PROVIDER_PRESETS: Record<string, ProviderPreset> = {
  // Coding Plan: keys `sk-sp-…`, metered in requests per 5 hours, per week and per month.
  'coding-plan': {
    name: 'coding-plan',
    kind: 'coding-plan',
    baseUrl: 'https://coding.dashscope.aliyuncs.com/v1',
    models: CODING_PLAN_MODELS,
    defaultModel: 'qwen3-coder-plus',
    plan: true,
  },
  'coding-plan-intl': {
    name: 'coding-plan-intl',
    kind: 'coding-plan',
    baseUrl: 'https://coding-intl.dashscope.aliyuncs.com/v1',
    models: CODING_PLAN_MODELS,
    defaultModel: 'qwen3-coder-plus',
    plan: true,
  },
  // Token Plan ("Team Edition", 2026): `Authorization: Bearer` only (the gateway sends nothing else).
  'token-plan': {
    name: 'token-plan',
    kind: 'token-plan',
    baseUrl: 'https://token-plan.cn-beijing.maas.aliyuncs.com/compatible-mode/v1',
    models: TOKEN_PLAN_MODELS,
    defaultModel: 'qwen3.6-plus',
    plan: true,
  },
  'token-plan-intl': {
    name: 'token-plan-intl',
    kind: 'token-plan',
    baseUrl: 'https://token-plan.ap-southeast-1.maas.aliyuncs.com/compatible-mode/v1',
    models: TOKEN_PLAN_MODELS,
    defaultModel: 'qwen3.6-plus',
    plan: true,
  },
  // Pay-as-you-go DashScope; keys are region-specific. Workspace regions for US and Hong Kong are
  // the console's region ids (us-east-1, cn-hongkong) [inferred].
  dashscope: dashscope('dashscope', 'dashscope.aliyuncs.com', 'cn-beijing'),
  'dashscope-intl': dashscope('dashscope-intl', 'dashscope-intl.aliyuncs.com', 'ap-southeast-1'),
  'dashscope-us': dashscope('dashscope-us', 'dashscope-us.aliyuncs.com', 'us-east-1'),
  'dashscope-hk': dashscope('dashscope-hk', 'cn-hongkong.dashscope.aliyuncs.com', 'cn-hongkong'),
  // ModelScope API-Inference: free daily calls, models named by repository, a ModelScope access token.
  modelscope: {
    name: 'modelscope',
    kind: 'modelscope',
    baseUrl: 'https://api-inference.modelscope.cn/v1',
    models: MODELSCOPE_MODELS,
    defaultModel: 'Qwen/Qwen3.5-397B-A17B',
    plan: false,
  },
};

/** `provider` + `region` as QWEN_API_KEYS spells them, to a preset name. */
const REGIONS: Record<string, Record<string, string>> = {
  'coding-plan': { cn: 'coding-plan', beijing: 'coding-plan', intl: 'coding-plan-intl', singapore: 'coding-plan-intl' },
  'token-plan': { cn: 'token-plan', beijing: 'token-plan', intl: 'token-plan-intl', singapore: 'token-plan-intl' },
  dashscope: {
    cn: 'dashscope',
    beijing: 'dashscope',
    intl: 'dashscope-intl',
    singapore: 'dashscope-intl',
    us: 'dashscope-us',
    virginia: 'dashscope-us',
    hk: 'dashscope-hk',
    hongkong: 'dashscope-hk',
  },
};

/** A Qwen API key as configured: which preset, where to send it, and the id it is known by. */
export interface QwenKeySpec {
  /** Operator-chosen id; when absent the pool derives a non-secret one from the key's hash. */
  id?: string;
  key: string;
  preset: ProviderPreset;
  /** Where requests go: the preset's URL, the workspace domain, or an explicit override. */
  baseUrl: string;
  /** A QWEN_API_KEY key behind OPENAI_BASE_URL: a proxy that may serve any model, not just the preset's. */
  customBaseUrl: boolean;
  /** Coding Plan tier (lite, pro), for the allowances shown on the status page. */
  tier?: string;
}

export interface QwenKeysInput {
  /** QWEN_API_KEY, split on commas. */
  apiKeys: string[];
  /** QWEN_PROVIDER, lower-cased. */
  provider: string | undefined;
  /** QWEN_API_KEYS, raw JSON. */
  keysJson: string | undefined;
  /** OPENAI_BASE_URL, which overrides the preset URL of the QWEN_API_KEY keys. */
  explicitBaseUrl: string | undefined;
}

const ACCEPTED = () => Object.keys(PROVIDER_PRESETS).join(', ');
const TIERS = new Set(['lite', 'pro']);

/**
 * Reads QWEN_API_KEY (+ QWEN_PROVIDER) and QWEN_API_KEYS into key specs and the problems found.
 * Pure, so config loading stays synchronous; a non-empty `problems` list means the gateway must not
 * serve (each problem names the variable and what would fix it, never the key itself).
 */
/** A client- or operator-given name looked up among an object's own keys only (never `__proto__` and kin). */
function own<T>(table: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

export function parseQwenKeys(input: QwenKeysInput): { keys: QwenKeySpec[]; problems: string[] } {
  const problems: string[] = [];
  const keys: QwenKeySpec[] = [];
  const configured = input.provider ? own(PROVIDER_PRESETS, input.provider) : undefined;
  if (input.provider && !configured) {
    problems.push(`QWEN_PROVIDER=${JSON.stringify(input.provider)} is not a known provider; accepted values: ${ACCEPTED()}.`);
  }
  input.apiKeys.forEach((key, i) => {
    const preset = configured ?? (key.startsWith('sk-sp-') ? PROVIDER_PRESETS['coding-plan']! : PROVIDER_PRESETS.dashscope!);
    const base = input.explicitBaseUrl ?? preset.baseUrl;
    keys.push({ key, preset, baseUrl: trimSlash(base), customBaseUrl: input.explicitBaseUrl !== undefined });
    const wrong = keyMismatch(key, preset);
    if (wrong && configured) problems.push(`QWEN_API_KEY #${i + 1}: ${wrong}`);
  });
  if (input.keysJson !== undefined) parseKeysJson(input.keysJson, keys, problems);
  const ids = keys.map((k) => k.id).filter((id): id is string => id !== undefined);
  for (const id of new Set(ids)) if (ids.indexOf(id) !== ids.lastIndexOf(id)) problems.push(`QWEN_API_KEYS: the id '${id}' is used twice; ids must be unique.`);
  return { keys, problems };
}

function parseKeysJson(raw: string, keys: QwenKeySpec[], problems: string[]): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push('QWEN_API_KEYS is not valid JSON; expected an array like [{"id":"plan-a","key":"sk-sp-…","provider":"coding-plan","region":"intl"}].');
    return;
  }
  if (!Array.isArray(parsed)) {
    problems.push('QWEN_API_KEYS must be a JSON array of {id, key, provider, region?, workspace?, tier?, baseUrl?}.');
    return;
  }
  parsed.forEach((entry: unknown, i) => {
    const where = `QWEN_API_KEYS[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return void problems.push(`${where} must be an object.`);
    const e = entry as Record<string, unknown>;
    const text = (name: string) => (typeof e[name] === 'string' && (e[name] as string).trim() !== '' ? (e[name] as string).trim() : undefined);
    const key = text('key');
    if (!key) return void problems.push(`${where} has no "key".`);
    const id = text('id');
    if (id !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(id)) problems.push(`${where}: id must be 1-64 letters, digits, '.', '_' or '-'.`);
    const provider = text('provider')?.toLowerCase() ?? (key.startsWith('sk-sp-') ? 'coding-plan' : 'dashscope');
    const region = text('region')?.toLowerCase();
    const regions = own(REGIONS, provider);
    const name = region ? (regions ? own(regions, region) : undefined) ?? (own(PROVIDER_PRESETS, provider) ? undefined : provider) : provider;
    const preset = name ? own(PROVIDER_PRESETS, name) : undefined;
    if (!preset) {
      problems.push(
        region && regions
          ? `${where}: region '${region}' is not one of ${provider}'s: ${Object.keys(regions).join(', ')}.`
          : `${where}: provider '${provider}' is not a provider preset; accepted: ${ACCEPTED()}.`,
      );
      return;
    }
    const workspace = text('workspace');
    const explicit = text('baseUrl');
    let baseUrl = explicit ?? preset.baseUrl;
    if (workspace !== undefined) {
      if (!preset.workspaceRegion) problems.push(`${where}: "workspace" applies to the dashscope presets only (not ${preset.name}).`);
      else if (!/^[A-Za-z0-9-]+$/.test(workspace)) problems.push(`${where}: workspace must be the WorkspaceId (letters, digits, '-').`);
      else baseUrl = explicit ?? workspaceBaseUrl(workspace, preset.workspaceRegion);
    }
    const tier = text('tier')?.toLowerCase();
    if (tier !== undefined && !TIERS.has(tier)) problems.push(`${where}: tier '${tier}' is not one of lite, pro.`);
    const wrong = keyMismatch(key, preset);
    if (wrong) problems.push(`${where}: ${wrong}`);
    keys.push({ ...(id ? { id } : {}), key, preset, baseUrl: trimSlash(baseUrl), customBaseUrl: false, ...(tier ? { tier } : {}) });
  });
}

/** DashScope's recommended workspace domain: only that workspace's keys work there. */
export function workspaceBaseUrl(workspace: string, region: string): string {
  return `https://${workspace}.${region}.maas.aliyuncs.com/compatible-mode/v1`;
}

/**
 * Why a key cannot work on a preset, naming the preset that fits; null when it may. Only the
 * pairings the providers document as refused are flagged: a Coding Plan key (`sk-sp-`) anywhere but
 * the plans (DashScope answers 401), and anything else on the Coding Plan, whose keys all start with
 * `sk-sp-` (Qwen Code refuses others the same way).
 */
export function keyMismatch(key: string, preset: ProviderPreset): string | null {
  const isPlanKey = key.startsWith('sk-sp-');
  if (preset.kind === 'coding-plan' && !isPlanKey) {
    return `Coding Plan keys start with "sk-sp-"; this key does not, so it belongs to pay-as-you-go DashScope (provider "dashscope", with its region) or ModelScope (provider "modelscope"), not ${preset.name}.`;
  }
  if ((preset.kind === 'dashscope' || preset.kind === 'modelscope') && isPlanKey) {
    return `this is a plan key ("sk-sp-"), which ${preset.name} refuses with 401; use provider "coding-plan" or "token-plan" (with region cn or intl).`;
  }
  if (preset.kind === 'token-plan' && !key.startsWith('sk-')) {
    return `Token Plan keys start with "sk-"; this key looks like a ModelScope access token (provider "modelscope").`;
  }
  return null;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');
