import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { PROVIDER_PRESETS, keyMismatch, parseQwenKeys, type QwenKeysInput } from '../../lib/qwen/providers.ts';

const input = (partial: Partial<QwenKeysInput>): QwenKeysInput => ({ apiKeys: [], provider: undefined, keysJson: undefined, explicitBaseUrl: undefined, ...partial });
const PLAN_KEY = 'sk-sp-0123456789abcdef';
const DASH_KEY = 'sk-0123456789abcdef';

describe('provider presets', () => {
  test.each([
    ['coding-plan', 'https://coding.dashscope.aliyuncs.com/v1'],
    ['coding-plan-intl', 'https://coding-intl.dashscope.aliyuncs.com/v1'],
    ['token-plan', 'https://token-plan.cn-beijing.maas.aliyuncs.com/compatible-mode/v1'],
    ['token-plan-intl', 'https://token-plan.ap-southeast-1.maas.aliyuncs.com/compatible-mode/v1'],
    ['dashscope', 'https://dashscope.aliyuncs.com/compatible-mode/v1'],
    ['dashscope-intl', 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1'],
    ['dashscope-us', 'https://dashscope-us.aliyuncs.com/compatible-mode/v1'],
    ['dashscope-hk', 'https://cn-hongkong.dashscope.aliyuncs.com/compatible-mode/v1'],
    ['modelscope', 'https://api-inference.modelscope.cn/v1'],
  ])('%s → %s, with a built-in model list holding its default', (name, url) => {
    const preset = PROVIDER_PRESETS[name]!;
    expect(preset.baseUrl).toBe(url);
    expect(preset.models).toContain(preset.defaultModel);
  });

  test('only the plans forward the client User-Agent', () => {
    const plans = Object.values(PROVIDER_PRESETS).filter((p) => p.plan).map((p) => p.name);
    expect(plans).toEqual(['coding-plan', 'coding-plan-intl', 'token-plan', 'token-plan-intl']);
  });
});

describe('key checks name the preset that fits', () => {
  test('a plan key on DashScope or ModelScope', () => {
    expect(keyMismatch(PLAN_KEY, PROVIDER_PRESETS.dashscope!)).toMatch(/coding-plan.*token-plan/);
    expect(keyMismatch(PLAN_KEY, PROVIDER_PRESETS.modelscope!)).toMatch(/coding-plan/);
  });
  test('a non-plan key on the Coding Plan', () => {
    expect(keyMismatch(DASH_KEY, PROVIDER_PRESETS['coding-plan-intl']!)).toMatch(/"dashscope"/);
    expect(keyMismatch(PLAN_KEY, PROVIDER_PRESETS['coding-plan']!)).toBeNull();
    expect(keyMismatch(PLAN_KEY, PROVIDER_PRESETS['token-plan']!)).toBeNull();
    expect(keyMismatch(DASH_KEY, PROVIDER_PRESETS['dashscope-us']!)).toBeNull();
  });
});

describe('QWEN_API_KEY + QWEN_PROVIDER', () => {
  test('without a provider, sk-sp- keys go to the Coding Plan and others to DashScope', () => {
    const { keys, problems } = parseQwenKeys(input({ apiKeys: [PLAN_KEY, DASH_KEY] }));
    expect(problems).toEqual([]);
    expect(keys.map((k) => k.preset.name)).toEqual(['coding-plan', 'dashscope']);
  });

  test('an unknown provider is a problem listing the accepted names', () => {
    const { problems } = parseQwenKeys(input({ apiKeys: [DASH_KEY], provider: 'dashscope-eu' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/QWEN_PROVIDER="dashscope-eu".*accepted values: coding-plan, coding-plan-intl, token-plan, token-plan-intl, dashscope, dashscope-intl, dashscope-us, dashscope-hk, modelscope/);
  });

  test('a key of the wrong kind for the named provider is a problem, and the key is not in it', () => {
    const { problems } = parseQwenKeys(input({ apiKeys: [PLAN_KEY], provider: 'dashscope-intl' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/QWEN_API_KEY #1: .*use provider "coding-plan" or "token-plan"/);
    expect(problems[0]).not.toContain(PLAN_KEY);
  });

  test('OPENAI_BASE_URL overrides the preset URL, and such a key may serve any model', () => {
    const { keys } = parseQwenKeys(input({ apiKeys: [DASH_KEY], explicitBaseUrl: 'http://proxy.local/v1/' }));
    expect(keys[0]).toMatchObject({ baseUrl: 'http://proxy.local/v1', customBaseUrl: true });
  });
});

describe('QWEN_API_KEYS', () => {
  const parse = (value: unknown) => parseQwenKeys(input({ keysJson: typeof value === 'string' ? value : JSON.stringify(value) }));

  test('several providers and regions in one pool, each with its own id', () => {
    const { keys, problems } = parse([
      { id: 'plan-intl', key: PLAN_KEY, provider: 'coding-plan', region: 'intl', tier: 'Pro' },
      { id: 'team', key: PLAN_KEY, provider: 'token-plan', region: 'cn' },
      { id: 'payg-us', key: DASH_KEY, provider: 'dashscope', region: 'us' },
      { id: 'ws', key: DASH_KEY, provider: 'dashscope', region: 'singapore', workspace: 'ws-abc123' },
      { id: 'ms', key: 'ms-00000000-1111-2222-3333-444444444444', provider: 'modelscope' },
      { id: 'proxied', key: DASH_KEY, provider: 'dashscope-hk', baseUrl: 'http://127.0.0.1:9/compatible-mode/v1' },
    ]);
    expect(problems).toEqual([]);
    expect(keys.map((k) => [k.id, k.preset.name, k.baseUrl])).toEqual([
      ['plan-intl', 'coding-plan-intl', 'https://coding-intl.dashscope.aliyuncs.com/v1'],
      ['team', 'token-plan', 'https://token-plan.cn-beijing.maas.aliyuncs.com/compatible-mode/v1'],
      ['payg-us', 'dashscope-us', 'https://dashscope-us.aliyuncs.com/compatible-mode/v1'],
      ['ws', 'dashscope-intl', 'https://ws-abc123.ap-southeast-1.maas.aliyuncs.com/compatible-mode/v1'],
      ['ms', 'modelscope', 'https://api-inference.modelscope.cn/v1'],
      ['proxied', 'dashscope-hk', 'http://127.0.0.1:9/compatible-mode/v1'],
    ]);
    expect(keys[0]!.tier).toBe('pro');
    // A named provider behind a custom URL still routes only its own models.
    expect(keys.every((k) => !k.customBaseUrl)).toBe(true);
  });

  test.each([
    ['not JSON', '[{', /not valid JSON/],
    ['not an array', { key: DASH_KEY }, /must be a JSON array/],
    ['no key', [{ id: 'x' }], /\[0\] has no "key"/],
    ['unknown provider', [{ key: DASH_KEY, provider: 'openrouter' }], /provider 'openrouter' is not a provider preset; accepted: /],
    ['unknown region', [{ key: DASH_KEY, provider: 'dashscope', region: 'eu' }], /region 'eu' is not one of dashscope's: cn, beijing, intl, singapore, us, virginia, hk, hongkong/],
    ['workspace on a plan', [{ key: PLAN_KEY, provider: 'coding-plan', workspace: 'ws1' }], /"workspace" applies to the dashscope presets only/],
    ['wrong key kind', [{ key: DASH_KEY, provider: 'coding-plan' }], /Coding Plan keys start with "sk-sp-"/],
    ['duplicate ids', [{ id: 'a', key: DASH_KEY }, { id: 'a', key: PLAN_KEY }], /id 'a' is used twice/],
    ['unknown tier', [{ key: PLAN_KEY, tier: 'max' }], /tier 'max' is not one of lite, pro/],
  ])('%s is a problem that says what to fix', (_name, value, pattern) => {
    const { problems } = parse(value);
    expect(problems.join('\n')).toMatch(pattern);
  });
});

describe('loadConfig', () => {
  test('carries the keys, their problems, and the models of their presets', () => {
    const config = loadConfig({ QWEN_API_KEYS: JSON.stringify([{ id: 'p', key: PLAN_KEY, provider: 'coding-plan' }, { id: 't', key: PLAN_KEY, provider: 'token-plan', region: 'intl' }]) });
    expect(config.qwenKeyProblems).toEqual([]);
    expect(config.qwenKeys.map((k) => k.id)).toEqual(['p', 't']);
    expect(config.models).toEqual(expect.arrayContaining(['qwen3-coder-plus', 'qwen3.7-max', 'glm-5', 'kimi-k2.5', 'MiniMax-M2.5']));
    expect(config.models).not.toContain('coder-model');
    expect(config.defaultModel).toBe('qwen3-coder-plus');
    expect(loadConfig({ QWEN_API_KEY: PLAN_KEY, QWEN_PROVIDER: 'modelscope' }).qwenKeyProblems).toHaveLength(1);
  });
});
