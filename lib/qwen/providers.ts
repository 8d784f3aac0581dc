/**
 * Where a Qwen API key is used. Qwen's OAuth free tier ended on 2026-04-15; most users now hold a key
 * for one of these OpenAI-compatible endpoints.
 */
export interface ProviderPreset {
  name: string;
  baseUrl: string;
  models: string[];
  defaultModel: string;
}

export const PROVIDER_PRESETS: Record<string, ProviderPreset> = {
  // Alibaba Cloud Model Studio (DashScope), mainland China.
  dashscope: {
    name: 'dashscope',
    baseUrl: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
    models: ['qwen3-coder-plus', 'qwen3-coder-flash', 'qwen3-max', 'qwen-plus', 'qwen-vl-max-latest'],
    defaultModel: 'qwen3-coder-plus',
  },
  // The same service from Singapore, for accounts made on the international site.
  'dashscope-intl': {
    name: 'dashscope-intl',
    baseUrl: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    models: ['qwen3-coder-plus', 'qwen3-coder-flash', 'qwen3-max', 'qwen-plus', 'qwen-vl-max-latest'],
    defaultModel: 'qwen3-coder-plus',
  },
  // Alibaba's paid Coding Plan, keys `sk-sp-…` (Qwen Code's codingPlan.ts, protocol §0).
  'coding-plan': {
    name: 'coding-plan',
    baseUrl: 'https://coding.dashscope.aliyuncs.com/v1',
    models: ['qwen3-coder-plus', 'qwen3.5-plus', 'qwen3-max-2026-01-23'],
    defaultModel: 'qwen3-coder-plus',
  },
  'coding-plan-intl': {
    name: 'coding-plan-intl',
    baseUrl: 'https://coding-intl.dashscope.aliyuncs.com/v1',
    models: ['qwen3-coder-plus', 'qwen3.5-plus', 'qwen3-max-2026-01-23'],
    defaultModel: 'qwen3-coder-plus',
  },
  // ModelScope API-Inference: free daily calls, models named by repository.
  modelscope: {
    name: 'modelscope',
    baseUrl: 'https://api-inference.modelscope.cn/v1',
    models: ['Qwen/Qwen3-Coder-480B-A35B-Instruct', 'Qwen/Qwen3-Coder-30B-A3B-Instruct'],
    defaultModel: 'Qwen/Qwen3-Coder-480B-A35B-Instruct',
  },
};

/** The preset for a key: QWEN_PROVIDER when set, else Coding Plan for `sk-sp-` keys, else DashScope. */
export function presetFor(key: string, configured: string | undefined): ProviderPreset {
  if (configured) {
    const preset = Object.hasOwn(PROVIDER_PRESETS, configured) ? PROVIDER_PRESETS[configured] : undefined;
    if (preset) return preset;
  }
  return key.startsWith('sk-sp-') ? PROVIDER_PRESETS['coding-plan']! : PROVIDER_PRESETS.dashscope!;
}
