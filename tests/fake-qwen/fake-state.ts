/**
 * The in-memory state one fake owns: knobs, clock, tokens, device codes, per-account quota,
 * recorded requests and counters. Nothing here is global, so several fakes can run in one process.
 */
import { createHash, randomBytes } from 'node:crypto';
import { FakeClock } from './fake-clock.ts';
import { defaultScenario, SCENARIO_KEYS, type Scenario } from './scenario.ts';

/** The credentials JSON Qwen Code writes after a device flow (protocol §1), key order included. */
export interface QwenCredentials {
  access_token: string;
  refresh_token: string;
  token_type: string;
  resource_url?: string;
  /** Milliseconds since the epoch, by the fake clock. */
  expiry_date: number;
}

export interface RecordedRequest {
  server: 'oauth' | 'api';
  method: string;
  /** Path with query string. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Raw body. */
  body: string;
  /** Parsed JSON body (or the form as an object for form bodies), else undefined. */
  json: unknown;
  /** Fake-clock time of arrival. */
  at: number;
}

export interface FakeQwenCounters {
  /** refresh_token grant requests received (any outcome). */
  refreshCalls: number;
  /** Same, keyed by the refresh token presented. */
  refreshCallsByToken: Record<string, number>;
  /** Most refresh requests in flight at once (a request is in flight from arrival until its answer is written). */
  maxConcurrentRefreshes: number;
  /** POST /v1/chat/completions requests received (any outcome). */
  chatCalls: number;
  /** Streams whose headers are written and that are not finished or closed yet. */
  openStreams: number;
  /** Stream requests whose client connection closed before the fake finished writing. */
  streamsAbortedByClient: number;
  /** device_code grant polls received (any outcome). */
  devicePolls: number;
}

interface Account {
  id: string;
  quotaDay: number;
  usedToday: number;
  /** Fake-clock times of recent chat calls, for the rpm window. */
  recent: number[];
}

interface AccessTokenRecord {
  account: string;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshTokenRecord {
  account: string;
  alive: boolean;
  /** The access token issued together with it (revokeOldAccessOnRefresh kills it). */
  accessToken: string;
}

export interface DeviceRecord {
  deviceCode: string;
  userCode: string;
  codeChallenge: string;
  expiresAt: number;
  status: 'pending' | 'approved' | 'denied' | 'used';
  polls: number;
  lastPollAt: number | null;
}

/** Opaque, visibly fake secrets: prefixed so nobody mistakes a logged one for a real credential. */
export function fakeSecret(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

const USER_CODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export class FakeState {
  readonly clock = new FakeClock();
  scenario: Scenario;
  readonly requests: RecordedRequest[] = [];
  readonly counters: FakeQwenCounters = FakeState.zeroCounters();
  /** Set once both servers listen. */
  oauthUrl = '';
  apiHost = '';

  private readonly baseline: Scenario;
  private readonly accounts = new Map<string, Account>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly deviceByUserCode = new Map<string, string>();
  private readonly waiters = new Set<() => void>();
  private refreshesInFlight = 0;
  private accountSeq = 0;
  /** Aborted by close(): every knob-driven wait of this fake ends with it. */
  private readonly lifetime = new AbortController();

  constructor(initial: Partial<Scenario> = {}) {
    this.baseline = { ...defaultScenario(), ...structuredClone(initial) };
    this.scenario = structuredClone(this.baseline);
  }

  private static zeroCounters(): FakeQwenCounters {
    return {
      refreshCalls: 0,
      refreshCallsByToken: {},
      maxConcurrentRefreshes: 0,
      chatCalls: 0,
      openStreams: 0,
      streamsAbortedByClient: 0,
      devicePolls: 0,
    };
  }

  // ---------- knobs ----------

  setScenario(partial: Partial<Scenario>): void {
    for (const key of Object.keys(partial)) {
      if (!SCENARIO_KEYS.has(key)) throw new Error(`fake-qwen: unknown scenario knob "${key}"`);
    }
    Object.assign(this.scenario, structuredClone(partial));
  }

  /**
   * Called when a fault knob changed an answer. Honours `faultTimes`: once a knob has fired that
   * many times it goes back to its baseline value.
   */
  fire(knob: keyof Scenario): void {
    const left = this.scenario.faultTimes[knob];
    if (left === undefined) return;
    if (left <= 1) {
      delete this.scenario.faultTimes[knob];
      (this.scenario as unknown as Record<string, unknown>)[knob] = structuredClone(this.baseline[knob]);
    } else {
      this.scenario.faultTimes[knob] = left - 1;
    }
  }

  /** resource_url as the token answers carry it, per resourceUrlStyle; undefined = omit. */
  resourceUrl(): string | undefined {
    switch (this.scenario.resourceUrlStyle) {
      case 'bare':
        return this.apiHost;
      case 'http':
        return `http://${this.apiHost}`;
      case 'http-v1':
        return `http://${this.apiHost}/v1`;
      case 'omit':
        return undefined;
    }
  }

  // ---------- counters ----------

  bump(name: 'chatCalls' | 'openStreams' | 'streamsAbortedByClient' | 'devicePolls', by = 1): void {
    this.counters[name] += by;
    this.notify();
  }

  refreshStarted(refreshToken: string): void {
    this.counters.refreshCalls += 1;
    this.counters.refreshCallsByToken[refreshToken] = (this.counters.refreshCallsByToken[refreshToken] ?? 0) + 1;
    this.refreshesInFlight += 1;
    this.counters.maxConcurrentRefreshes = Math.max(this.counters.maxConcurrentRefreshes, this.refreshesInFlight);
    this.notify();
  }

  refreshEnded(): void {
    this.refreshesInFlight -= 1;
    this.notify();
  }

  waitFor(pred: (c: FakeQwenCounters) => boolean, timeoutMs = 5000): Promise<void> {
    if (pred(this.counters)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pred(this.counters)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake-qwen waitFor timed out after ${timeoutMs} ms; counters: ${JSON.stringify(this.counters)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }

  // ---------- timing ----------

  /** A knob-driven delay that also ends early when `signal` aborts or the fake closes. Resolves true if the full time passed. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(!signal?.aborted && !this.lifetime.signal.aborted);
    return new Promise((resolve) => {
      const signals = signal ? [signal, this.lifetime.signal] : [this.lifetime.signal];
      const done = (completed: boolean): void => {
        clearTimeout(timer);
        for (const s of signals) s.removeEventListener('abort', onAbort);
        resolve(completed);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(true), ms);
      for (const s of signals) {
        if (s.aborted) return done(false);
        s.addEventListener('abort', onAbort);
      }
    });
  }

  /** Resolves when `signal` aborts or the fake closes (a stalled stream waits on this). */
  untilAborted(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || this.lifetime.signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      this.lifetime.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** True once close() began: sockets the fake destroys then are not the client's doing. */
  get shutDown(): boolean {
    return this.lifetime.signal.aborted;
  }

  shutdown(): void {
    this.lifetime.abort();
    for (const check of this.waiters) check();
  }

  // ---------- tokens ----------

  /** A new account (token lineage) with its first token pair, as a completed device flow creates. */
  newAccountTokens(expiresInMs = this.scenario.accessTokenExpiresInSec * 1000): { accessToken: string; refreshToken: string; expiresAt: number } {
    this.accountSeq += 1;
    const account = `acct-${this.accountSeq}`;
    return this.issueTokens(account, expiresInMs);
  }

  issueTokens(account: string, expiresInMs: number): { accessToken: string; refreshToken: string; expiresAt: number } {
    const accessToken = fakeSecret('fq-at-');
    const refreshToken = fakeSecret('fq-rt-');
    const expiresAt = this.clock.now() + expiresInMs;
    this.accessTokens.set(accessToken, { account, expiresAt, revoked: false });
    this.refreshTokens.set(refreshToken, { account, alive: true, accessToken });
    return { accessToken, refreshToken, expiresAt };
  }

  mintCredentials(options: { expiresInMs?: number } = {}): QwenCredentials {
    const { accessToken, refreshToken, expiresAt } = this.newAccountTokens(options.expiresInMs);
    const resourceUrl = this.resourceUrl();
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      ...(resourceUrl === undefined ? {} : { resource_url: resourceUrl }),
      expiry_date: expiresAt,
    };
  }

  /** The account of a usable access token, or null (unknown, revoked or expired by the fake clock). */
  accountOfAccessToken(token: string): string | null {
    const record = this.accessTokens.get(token);
    if (!record || record.revoked || this.clock.now() >= record.expiresAt) return null;
    return record.account;
  }

  /**
   * Refresh grant on a live refresh token: new access token (and, with rotation, a new refresh token;
   * the presented one dies at once). Returns null for a dead, unknown or revoked token.
   */
  rotate(refreshToken: string): { accessToken: string; refreshToken: string | null; expiresInSec: number } | null {
    const record = this.refreshTokens.get(refreshToken);
    if (!record || !record.alive) return null;
    const s = this.scenario;
    if (s.revokeOldAccessOnRefresh) {
      const old = this.accessTokens.get(record.accessToken);
      if (old) old.revoked = true;
    }
    const expiresInSec = s.accessTokenExpiresInSec;
    if (s.rotateRefresh) {
      record.alive = false;
      const next = this.issueTokens(record.account, expiresInSec * 1000);
      return { accessToken: next.accessToken, refreshToken: next.refreshToken, expiresInSec };
    }
    const accessToken = fakeSecret('fq-at-');
    this.accessTokens.set(accessToken, { account: record.account, expiresAt: this.clock.now() + expiresInSec * 1000, revoked: false });
    record.accessToken = accessToken;
    return { accessToken, refreshToken: null, expiresInSec };
  }

  revoke(token: { access_token?: string; refresh_token?: string }): void {
    if (token.access_token) {
      const record = this.accessTokens.get(token.access_token);
      if (record) record.revoked = true;
    }
    if (token.refresh_token) {
      const record = this.refreshTokens.get(token.refresh_token);
      if (record) record.alive = false;
    }
  }

  // ---------- quota ----------

  /**
   * Counts one chat call against the account's daily quota and rpm window.
   * Returns the limit it hit (and, for rpm, seconds until a slot frees), or null when allowed.
   */
  chargeQuota(accountId: string): { hit: 'daily' } | { hit: 'rpm'; retryAfterSec: number } | null {
    const s = this.scenario;
    const now = this.clock.now();
    let account = this.accounts.get(accountId);
    if (!account) {
      account = { id: accountId, quotaDay: -1, usedToday: 0, recent: [] };
      this.accounts.set(accountId, account);
    }
    const tzOffsetMs = s.quotaResetTimeZone === 'Asia/Shanghai' ? 8 * 3_600_000 : 0; // Shanghai has no DST
    const day = Math.floor((now + tzOffsetMs) / 86_400_000);
    if (day !== account.quotaDay) {
      account.quotaDay = day;
      account.usedToday = 0;
    }
    if (s.dailyQuota !== null && account.usedToday >= s.dailyQuota) return { hit: 'daily' };
    account.recent = account.recent.filter((t) => now - t < 60_000);
    if (s.rpmLimit !== null && account.recent.length >= s.rpmLimit) {
      const oldest = account.recent[0] ?? now;
      return { hit: 'rpm', retryAfterSec: Math.max(1, Math.ceil((oldest + 60_000 - now) / 1000)) };
    }
    account.usedToday += 1;
    account.recent.push(now);
    return null;
  }

  // ---------- device flow ----------

  newDevice(codeChallenge: string): DeviceRecord {
    let userCode = '';
    do {
      userCode = Array.from(randomBytes(8), (b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]).join('');
    } while (this.deviceByUserCode.has(userCode));
    const device: DeviceRecord = {
      deviceCode: fakeSecret('fq-dc-', 33),
      userCode,
      codeChallenge,
      expiresAt: this.clock.now() + this.scenario.deviceCodeExpiresInSec * 1000,
      status: 'pending',
      polls: 0,
      lastPollAt: null,
    };
    this.devices.set(device.deviceCode, device);
    this.deviceByUserCode.set(userCode, device.deviceCode);
    return device;
  }

  device(deviceCode: string): DeviceRecord | undefined {
    return this.devices.get(deviceCode);
  }

  private deviceByUser(userCode: string): DeviceRecord {
    const deviceCode = this.deviceByUserCode.get(userCode.toUpperCase());
    const device = deviceCode === undefined ? undefined : this.devices.get(deviceCode);
    if (!device) throw new Error(`fake-qwen: no device code with user_code ${userCode}`);
    return device;
  }

  approveDevice(userCode: string): void {
    const device = this.deviceByUser(userCode);
    if (device.status === 'pending') device.status = 'approved';
  }

  denyDevice(userCode: string): void {
    const device = this.deviceByUser(userCode);
    if (device.status !== 'used') device.status = 'denied';
  }

  expireDevice(userCode: string): void {
    this.deviceByUser(userCode).expiresAt = this.clock.now() - 1;
  }

  // ---------- recording and reset ----------

  record(entry: RecordedRequest): void {
    this.requests.push(entry);
  }

  /** Knobs back to this fake's defaults (spec defaults plus what startFakeQwen got), everything else cleared. */
  reset(): void {
    this.scenario = structuredClone(this.baseline);
    this.clock.reset();
    this.requests.length = 0;
    this.accounts.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.devices.clear();
    this.deviceByUserCode.clear();
    // openStreams and in-flight refreshes describe live sockets, so they survive a reset.
    const openStreams = this.counters.openStreams;
    Object.assign(this.counters, FakeState.zeroCounters(), { openStreams });
    this.counters.maxConcurrentRefreshes = this.refreshesInFlight;
    this.notify();
  }
}
