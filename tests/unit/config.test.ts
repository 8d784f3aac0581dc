import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { createDeps } from '../../lib/create-deps.ts';
import { handle } from '../../lib/handle.ts';
import { createConsoleLogger } from '../../lib/logger.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';

const creds = { access_token: 'at-secret', refresh_token: 'rt-secret', expiry_date: 1 };
const problemsOf = (env: Record<string, string>) => loadConfig(env).problems;

describe('configuration that fails loudly', () => {
  test('a well-formed env has no problems', () => {
    expect(
      problemsOf({
        QWEN_CLI_AUTH: JSON.stringify([creds]),
        QWEN_PROVIDER: 'DashScope-Intl',
        MODEL_ALIASES: '{"gpt-4o":"coder-model"}',
        MAX_BODY_BYTES: '4096',
        KEEPALIVE_INTERVAL_MS: ' 100 ',
        RESPONSE_START_TIMEOUT_MS: '0',
      }),
    ).toEqual([]);
    // Unset is not a problem (API keys may serve instead of OAuth; every number has a default).
    expect(problemsOf({})).toEqual([]);
  });

  test('an unknown QWEN_PROVIDER names the variable and every accepted value, and keys go nowhere by default', () => {
    const [problem, ...rest] = problemsOf({ QWEN_API_KEY: 'sk-x', QWEN_PROVIDER: 'dashscop' });
    expect(rest).toEqual([]);
    expect(problem).toEqual({
      variable: 'QWEN_PROVIDER',
      message: 'QWEN_PROVIDER="dashscop" is not a known provider; accepted values: coding-plan, coding-plan-intl, token-plan, token-plan-intl, dashscope, dashscope-intl, dashscope-us, dashscope-hk, modelscope.',
    });
  });

  test.each([
    ['{"gpt-4o":', /MODEL_ALIASES is not valid JSON .*accepted: a JSON object of model names/],
    ['["coder-model"]', /MODEL_ALIASES is not a JSON object; accepted/],
    ['{"gpt-4o":3,"ok":"coder-model"}', /MODEL_ALIASES maps "gpt-4o" to something other than a model name/],
  ])('MODEL_ALIASES=%s is a problem', (value, message) => {
    const problems = problemsOf({ MODEL_ALIASES: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ variable: 'MODEL_ALIASES', message: expect.stringMatching(message) });
  });

  test.each(['MAX_BODY_BYTES', 'KEEPALIVE_INTERVAL_MS', 'UPSTREAM_IDLE_TIMEOUT_MS', 'UPSTREAM_CONNECT_TIMEOUT_MS', 'RESPONSE_START_TIMEOUT_MS'])(
    'a non-numeric %s is a problem, not its default',
    (variable) => {
      for (const value of ['16MB', '-5', 'NaN']) {
        const problems = problemsOf({ [variable]: value });
        expect(problems).toEqual([{ variable, message: expect.stringContaining(`${variable}="${value}" is not a number`) }]);
      }
    },
  );

  test('zero is "off" only for RESPONSE_START_TIMEOUT_MS', () => {
    expect(problemsOf({ RESPONSE_START_TIMEOUT_MS: '0' })).toEqual([]);
    expect(problemsOf({ MAX_BODY_BYTES: '0' })[0]?.message).toMatch(/MAX_BODY_BYTES="0" is not a number greater than 0 \(bytes; default 16777216\)/);
  });

  test.each([
    ['{"access_token": "x"', /^QWEN_CLI_AUTH is not valid JSON; accepted: the JSON object Qwen Code writes/],
    [JSON.stringify([creds, { access_token: 'a' }]), /^QWEN_CLI_AUTH\[1\] has no refresh_token; accepted/],
    [JSON.stringify({ ...creds, expiry_date: 'soon' }), /^QWEN_CLI_AUTH has a non-numeric expiry_date/],
  ])('a malformed QWEN_CLI_AUTH entry is a problem that never quotes a token', (value, message) => {
    const problems = problemsOf({ QWEN_CLI_AUTH: value });
    expect(problems).toEqual([{ variable: 'QWEN_CLI_AUTH', message: expect.stringMatching(message) }]);
    expect(JSON.stringify(problems)).not.toMatch(/secret/);
  });

  test('logged once per isolate; 503 gateway_misconfigured after auth on every route but /health, which reports it', async () => {
    const lines: string[] = [];
    const deps = {
      ...createDeps({
        env: { QWEN_API_KEY: 'sk-qwen-secret', QWEN_PROVIDER: 'dashscop', MAX_BODY_BYTES: 'lots', OPENAI_API_KEY: 'sk-client' },
        store: new MemoryStore(),
        logger: createConsoleLogger('debug', (line) => lines.push(line)),
      }),
      waitUntil: () => {},
    };
    const call = (path: string, init: RequestInit = {}) => handle(new Request(`http://gateway${path}`, init), deps);
    const auth = { authorization: 'Bearer sk-client' };

    for (const [path, init] of [
      ['/v1/chat/completions', { method: 'POST', headers: auth, body: '{}' }],
      ['/v1/models', { headers: auth }],
      ['/v1/models/coder-model', { headers: auth }],
      ['/v1/status', { headers: auth }],
    ] as const) {
      const res = await call(path, init);
      expect(res.status, path).toBe(503);
      expect(res.headers.get('x-should-retry')).toBe('false');
      const { error } = await res.json();
      expect(error).toMatchObject({ type: 'server_error', code: 'gateway_misconfigured' });
      expect(error.message).toContain('QWEN_PROVIDER="dashscop" is not a known provider; accepted values: coding-plan,');
      expect(error.message).toContain('MAX_BODY_BYTES="lots"');
    }
    // Without a key, nothing about the configuration leaks: the usual 401.
    expect((await call('/v1/models')).status).toBe(401);

    const health = await call('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'misconfigured', misconfigured: ['QWEN_PROVIDER', 'MAX_BODY_BYTES'] });

    const said = lines.filter((line) => JSON.parse(line).msg === 'gateway misconfigured');
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0]!)).toMatchObject({ level: 'error', msg: 'gateway misconfigured', problems: [expect.stringContaining('QWEN_PROVIDER'), expect.stringContaining('MAX_BODY_BYTES')] });
    expect(lines.join('\n')).not.toContain('sk-qwen-secret');
  });
});
