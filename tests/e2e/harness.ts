import { afterAll, beforeAll } from 'vitest';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';
import type { GatewayTarget, StartTarget } from './targets.ts';

/** What every e2e case list needs: a fake Qwen for the file, and gateways on the host under test. */
export interface Harness {
  readonly fake: FakeQwen;
  /** The client keys every gateway accepts. */
  readonly keys: readonly string[];
  /** A gateway with fresh credentials minted by the fake, plus any env overrides. */
  gateway(env?: Record<string, string>, credentials?: object | object[]): Promise<GatewayTarget>;
  /** A gateway with exactly this env and nothing added (stopped with the others). */
  startRaw(env: Record<string, string>): Promise<GatewayTarget>;
  /** Chat requests Qwen received, oldest first. */
  chatCalls(): FakeQwen['requests'];
  lastChatBody(): Record<string, unknown>;
}

/** Registers the fake's and the gateways' start and stop around the calling describe block. */
export function useHarness(start: StartTarget): Harness {
  const keys = ['sk-test-alpha', 'sk-test-beta'];
  let fake: FakeQwen | undefined;
  const targets: GatewayTarget[] = [];
  beforeAll(async () => {
    fake = await startFakeQwen({ resourceUrlStyle: 'http' });
  });
  afterAll(async () => {
    await Promise.all(targets.map((t) => t.close()));
    await fake?.close();
  });
  const harness: Harness = {
    get fake() {
      if (!fake) throw new Error('the fake Qwen starts in beforeAll');
      return fake;
    },
    keys,
    gateway: (env = {}, credentials) =>
      harness.startRaw({
        QWEN_CLI_AUTH: JSON.stringify(credentials ?? harness.fake.mintCredentials()),
        QWEN_OAUTH_BASE_URL: harness.fake.oauthUrl,
        OPENAI_API_KEY: keys.join(','),
        LOG_LEVEL: 'warn',
        ...env,
      }),
    async startRaw(env) {
      const target = await start(env);
      targets.push(target);
      return target;
    },
    chatCalls: () => harness.fake.requests.filter((r) => r.server === 'api' && r.path.endsWith('/chat/completions')),
    lastChatBody: () => harness.chatCalls().at(-1)?.json as Record<string, unknown>,
  };
  return harness;
}
