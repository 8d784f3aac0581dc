/**
 * Fake Qwen: the OAuth server (stands in for https://chat.qwen.ai) and the API server (stands in
 * for https://portal.qwen.ai), as specified in /work/shared/qwen-protocol.md §9. The real free tier
 * is gone, so this fake is the only place the gateway's Qwen-OAuth path runs end to end.
 *
 *   const fake = await startFakeQwen({ resourceUrlStyle: 'http' });
 *   const creds = fake.mintCredentials();            // as if a device flow had just completed
 *   // gateway: QWEN_OAUTH_BASE_URL = fake.oauthUrl, credentials = creds (resource_url → fake.apiUrl)
 *   fake.setScenario({ refreshLatencyMs: 200 });     // knobs: see scenario.ts
 *   await fake.waitFor((c) => c.refreshCalls === 1);
 *   await fake.close();
 *
 * Defaults follow the spec (scenario.ts): resource_url is a bare host (the gateway would derive https://,
 * so gateway tests usually start with resourceUrlStyle 'http'), dailyQuota 2000 and rpmLimit 60 per
 * account (set rpmLimit: null for load tests).
 *
 * Another process (workerd, a CLI) can drive the same state through the OAuth server:
 *   POST /__fake/scenario {knobs}        GET /__fake/scenario
 *   POST /__fake/clock {advanceMs?, set?, freeze?}   GET /__fake/clock → {now}
 *   POST /__fake/revoke {access_token?, refresh_token?}
 *   POST /__fake/mint {expiresInMs?} → credentials JSON
 *   GET  /__fake/requests   GET /__fake/counters   POST /__fake/reset
 *   POST /__fake/device/approve | deny | expire {user_code}
 * (Control requests are not recorded in `requests`.)
 *
 * Content markers, written anywhere in the LAST user message (they are removed from the echo):
 *   (none)         content "Echo: <last user text>", one chunk per word in streams
 *   [[think]]      reasoning_content "Thinking about: <text>" first, then the content
 *                  (also when the request has enable_thinking: true, or with the thinkByDefault knob)
 *   [[tools]]      one tool call instead of content: name = the request's first tool (else "get_weather"),
 *                  arguments {"query":"<text>"}; streams send the call, then 7-character argument fragments;
 *                  finish_reason "tool_calls"
 *   [[tools:N]]    N tool calls (arguments also carry "call": i); stream indexes 0..N-1
 *                  (all 0, with at least 2 calls, under the toolIndexCollision knob)
 *   [[long:N]]     N content chunks "Line i of N.\n"
 *   [[chars:N]]    content of exactly N characters (a repeated pangram); with [[long:M]] split into M chunks
 *   [[length]]     finish_reason "length"
 * The scriptedTool knob {name, arguments} instead plays an agent's model through one tool round trip
 * (scripted-tool-model.ts): it calls that tool when offered, then quotes the tool result.
 * Also: a `max_tokens` below the answer's token count cuts the content at max_tokens*4 characters
 * and finishes with "length". Tokens are ceil(characters/4), prompt tokens count every message's text.
 */
import { createApiHandler } from './api-server.ts';
import { FakeState, type FakeQwenCounters, type QwenCredentials, type RecordedRequest } from './fake-state.ts';
import { startLoopbackServer } from './http-helpers.ts';
import { createOAuthHandler } from './oauth-server.ts';
import type { Scenario } from './scenario.ts';

export type { Scenario, OAuthFault, ApiFault } from './scenario.ts';
export { defaultScenario, QWEN_CLIENT_ID } from './scenario.ts';
export type { FakeQwenCounters, QwenCredentials, RecordedRequest } from './fake-state.ts';
export { pkceChallenge } from './fake-state.ts';

export interface FakeQwen {
  /** "http://127.0.0.1:<A>" (use as QWEN_OAUTH_BASE_URL) */
  oauthUrl: string;
  /** "http://127.0.0.1:<B>" */
  apiUrl: string;
  /** The current knobs (live object; change them with setScenario). */
  readonly scenario: Scenario;
  setScenario(partial: Partial<Scenario>): void;
  /** The fake's time (token expiry, device-code expiry, poll intervals, quota days, `created`). */
  clock: {
    now(): number;
    advance(ms: number): void;
    /** now() returns epochMs from this instant on. */
    set(epochMs: number): void;
    /** Stop (or restart) the clock. */
    freeze(frozen?: boolean): void;
  };
  /** A fresh token pair for a new account, exactly as a completed device flow would issue it. */
  mintCredentials(options?: { expiresInMs?: number }): QwenCredentials;
  revoke(token: { access_token?: string; refresh_token?: string }): void;
  approveDevice(userCode: string): void;
  denyDevice(userCode: string): void;
  expireDevice(userCode: string): void;
  /** Every request to either server except /__fake/ control calls. */
  readonly requests: RecordedRequest[];
  readonly counters: FakeQwenCounters;
  /** Resolves when counters satisfy pred (checked whenever a counter changes); rejects after timeoutMs (default 5000). */
  waitFor(pred: (c: FakeQwenCounters) => boolean, timeoutMs?: number): Promise<void>;
  /** Knobs back to this fake's defaults (spec defaults + the scenario given to startFakeQwen); clock, tokens, devices, quota, records and counters cleared (openStreams keeps counting live streams). */
  reset(): void;
  /** Closes both servers and every open socket (stalled streams included). */
  close(): Promise<void>;
}

export async function startFakeQwen(scenario: Partial<Scenario> = {}): Promise<FakeQwen> {
  const state = new FakeState(scenario);
  const oauth = await startLoopbackServer(createOAuthHandler(state));
  const api = await startLoopbackServer(createApiHandler(state)).catch(async (err: unknown) => {
    await oauth.close();
    throw err;
  });
  state.oauthUrl = oauth.url;
  state.apiHost = api.host;
  let closed: Promise<void> | null = null;

  return {
    oauthUrl: oauth.url,
    apiUrl: api.url,
    get scenario() {
      return state.scenario;
    },
    setScenario: (partial) => state.setScenario(partial),
    clock: {
      now: () => state.clock.now(),
      advance: (ms) => state.clock.advance(ms),
      set: (epochMs) => state.clock.set(epochMs),
      freeze: (frozen) => state.clock.freeze(frozen),
    },
    mintCredentials: (options) => state.mintCredentials(options),
    revoke: (token) => state.revoke(token),
    approveDevice: (userCode) => state.approveDevice(userCode),
    denyDevice: (userCode) => state.denyDevice(userCode),
    expireDevice: (userCode) => state.expireDevice(userCode),
    requests: state.requests,
    counters: state.counters,
    waitFor: (pred, timeoutMs) => state.waitFor(pred, timeoutMs),
    reset: () => state.reset(),
    close: () => {
      closed ??= (async () => {
        state.shutdown();
        await Promise.all([oauth.close(), api.close()]);
      })();
      return closed;
    },
  };
}
