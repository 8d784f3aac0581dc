/**
 * The fake chat.qwen.ai: device authorization, token endpoint (device_code and refresh_token
 * grants, PKCE S256), and the fake's HTTP control endpoints under /__fake/ (protocol §1, §2, §9.1).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { flatHeaders, readBody, sendJson, sendText, tryParseJson, type Handler } from './http-helpers.ts';
import { pkceChallenge, type FakeState } from './fake-state.ts';
import { QWEN_CLIENT_ID, type OAuthFault } from './scenario.ts';
import { DEAD_REFRESH_DESCRIPTION, MISSING_UA_HTML, oauthError } from './wire-bodies.ts';

type Params = Record<string, string>;
/** An answer decided now and written later (after the refresh latency, unless the client left). */
type Answer = (res: ServerResponse) => void;

const STATUS_TEXT: Record<number, string> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return (res) => sendJson(res, status, body, headers);
}

/** Form bodies (`+` and `%20` both mean a space), or JSON objects of strings (qwen-worker-proxy sends JSON). */
function parseParams(body: string, contentType: string): Params {
  if (contentType.includes('application/json')) {
    const parsed = tryParseJson(body);
    const out: Params = {};
    if (parsed && typeof parsed === 'object') {
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
    }
    return out;
  }
  return Object.fromEntries(new URLSearchParams(body));
}

/** Missing, empty, or the bare default a runtime sends when the caller set none. */
function hasUsableUserAgent(headers: Record<string, string>): boolean {
  const ua = (headers['user-agent'] ?? '').trim();
  return ua !== '' && !/^(node|undici)$/i.test(ua);
}

export function createOAuthHandler(state: FakeState): Handler {
  const missingUserAgent = (): Answer =>
    state.scenario.missingUserAgentAnswer === 'redirect'
      ? (res) => {
          res.writeHead(302, { location: `${state.oauthUrl}/login`, 'content-length': '0' });
          res.end();
        }
      : (res) => sendText(res, 200, 'text/html; charset=utf-8', MISSING_UA_HTML);

  const fault = (kind: OAuthFault, truncatedJson: string): Answer => {
    if (kind === 'error-body') return json(200, oauthError('server_error', 'The server is temporarily unable to handle the request'));
    if (kind === 'invalid-json') return (res) => sendText(res, 200, 'application/json', truncatedJson);
    if (kind === 'html') return (res) => sendText(res, 200, 'text/html; charset=utf-8', MISSING_UA_HTML);
    const status = kind === 'none' ? 500 : kind;
    const text = STATUS_TEXT[status] ?? 'Server Error';
    return state.scenario.oauthFaultBody === 'text'
      ? (res) => sendText(res, status, 'text/plain; charset=utf-8', text)
      : json(status, oauthError('server_error', text));
  };

  const deviceCode = (params: Params, headers: Record<string, string>): Answer => {
    const s = state.scenario;
    if (s.requireUserAgent && !hasUsableUserAgent(headers)) return missingUserAgent();
    if (s.deviceCodeFault !== 'none') {
      const kind = s.deviceCodeFault;
      state.fire('deviceCodeFault');
      return fault(kind, '{"device_code":"');
    }
    for (const name of ['client_id', 'scope', 'code_challenge', 'code_challenge_method']) {
      if (!params[name]) return json(400, oauthError('invalid_request', `Missing required parameter: ${name}`));
    }
    if (params.client_id !== QWEN_CLIENT_ID) return json(400, oauthError('invalid_client', 'Invalid client_id'));
    if (!(params.scope ?? '').split(' ').includes('model.completion')) {
      return json(400, oauthError('invalid_scope', 'The requested scope must include model.completion'));
    }
    if (params.code_challenge_method !== 'S256') return json(400, oauthError('invalid_request', 'Unsupported code_challenge_method'));
    if (!/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge ?? '')) return json(400, oauthError('invalid_request', 'Invalid code_challenge'));
    const device = state.newDevice(params.code_challenge ?? '');
    const verification = `${state.oauthUrl}/authorize`;
    return json(200, {
      device_code: device.deviceCode,
      user_code: device.userCode,
      verification_uri: verification,
      verification_uri_complete: `${verification}?user_code=${device.userCode}&client=qwen-code`,
      expires_in: s.deviceCodeExpiresInSec,
      ...(s.deviceInterval === null ? {} : { interval: s.deviceInterval }),
    });
  };

  const deviceGrant = (params: Params, headers: Record<string, string>): Answer => {
    const s = state.scenario;
    state.bump('devicePolls');
    if (s.requireUserAgent && !hasUsableUserAgent(headers)) return missingUserAgent();
    const device = state.device(params.device_code ?? '');
    if (!device || device.status === 'used') {
      return json(s.invalidDeviceCodeStatus, oauthError('invalid_grant', 'The device code is invalid or has already been used'));
    }
    if (params.client_id !== QWEN_CLIENT_ID) return json(400, oauthError('invalid_client', 'Invalid client_id'));
    const now = state.clock.now();
    if (now >= device.expiresAt) return json(400, oauthError('expired_token', 'The device code has expired'));
    if (device.status === 'denied') return json(400, oauthError('access_denied', 'The user denied the authorization request'));
    if (s.minPollMs > 0 && device.lastPollAt !== null && now - device.lastPollAt < s.minPollMs) {
      device.lastPollAt = now;
      return json(s.slowDownStatus, oauthError('slow_down', 'Polling too frequently, please slow down'));
    }
    device.lastPollAt = now;
    device.polls += 1;
    if (s.autoApproveAfterPolls !== null && device.polls > s.autoApproveAfterPolls && device.status === 'pending') {
      device.status = 'approved';
    }
    if (device.status === 'pending') {
      return json(400, oauthError('authorization_pending', 'The authorization request is still pending'));
    }
    if (!params.code_verifier || pkceChallenge(params.code_verifier) !== device.codeChallenge) {
      return json(400, oauthError('invalid_grant', 'PKCE verification failed'));
    }
    device.status = 'used';
    const tokens = state.newAccountTokens();
    const resourceUrl = state.resourceUrl();
    return json(200, {
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
      token_type: 'Bearer',
      expires_in: s.accessTokenExpiresInSec,
      scope: 'openid profile email model.completion',
      ...(resourceUrl === undefined ? {} : { resource_url: resourceUrl }),
    });
  };

  const refreshGrant = (params: Params, headers: Record<string, string>): Answer => {
    const s = state.scenario;
    if (s.requireUserAgent && !hasUsableUserAgent(headers)) return missingUserAgent();
    if (s.refreshFault !== 'none') {
      // Checked before the token is looked at: a transient failure must not burn the refresh token.
      const kind = s.refreshFault;
      state.fire('refreshFault');
      return fault(kind, '{"access_token":"');
    }
    const dead = json(s.deadRefreshStatus, oauthError(s.deadRefreshError, DEAD_REFRESH_DESCRIPTION));
    if (params.client_id !== QWEN_CLIENT_ID) return dead;
    // Rotation happens on arrival, before the latency: a client that gives up waiting has still burned it.
    const next = state.rotate(params.refresh_token ?? '');
    if (!next) return dead;
    const resourceUrl = s.omitResourceUrlOnRefresh ? undefined : state.resourceUrl();
    return json(200, {
      access_token: next.accessToken,
      token_type: 'Bearer',
      expires_in: next.expiresInSec,
      ...(next.refreshToken === null ? {} : { refresh_token: next.refreshToken }),
      ...(resourceUrl === undefined ? {} : { resource_url: resourceUrl }),
    });
  };

  const token = async (req: IncomingMessage, res: ServerResponse, body: string, headers: Record<string, string>): Promise<void> => {
    const contentType = headers['content-type'] ?? '';
    const params = parseParams(body, contentType);
    const isForm = contentType.includes('application/x-www-form-urlencoded');
    if (params.grant_type === 'refresh_token') {
      const presented = params.refresh_token ?? '';
      state.refreshStarted(presented);
      const left = new AbortController();
      res.on('close', () => left.abort());
      try {
        const answer = isForm ? refreshGrant(params, headers) : json(400, oauthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded'));
        if (await state.sleep(state.scenario.refreshLatencyMs, left.signal)) answer(res);
        else if (!res.writableEnded) res.destroy();
      } finally {
        state.refreshEnded();
      }
      return;
    }
    if (!isForm) return sendJson(res, 400, oauthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded'));
    if (params.grant_type === 'urn:ietf:params:oauth:grant-type:device_code') return deviceGrant(params, headers)(res);
    return sendJson(res, 400, { error: 'unsupported_grant_type' });
  };

  const control = async (req: IncomingMessage, res: ServerResponse, path: string, body: string): Promise<void> => {
    const input = (tryParseJson(body) ?? {}) as Record<string, unknown>;
    const method = req.method ?? 'GET';
    const route = `${method} ${path}`;
    try {
      switch (route) {
        case 'GET /__fake/scenario':
          return sendJson(res, 200, state.scenario);
        case 'POST /__fake/scenario':
          state.setScenario(input);
          return sendJson(res, 200, state.scenario);
        case 'GET /__fake/clock':
          return sendJson(res, 200, { now: state.clock.now() });
        case 'POST /__fake/clock':
          if (typeof input.set === 'number') state.clock.set(input.set);
          if (typeof input.advanceMs === 'number') state.clock.advance(input.advanceMs);
          if (typeof input.freeze === 'boolean') state.clock.freeze(input.freeze);
          return sendJson(res, 200, { now: state.clock.now() });
        case 'POST /__fake/revoke':
          state.revoke(input as { access_token?: string; refresh_token?: string });
          return sendJson(res, 200, { ok: true });
        case 'POST /__fake/mint':
          return sendJson(res, 200, state.mintCredentials(typeof input.expiresInMs === 'number' ? { expiresInMs: input.expiresInMs } : {}));
        case 'GET /__fake/requests':
          return sendJson(res, 200, state.requests);
        case 'GET /__fake/counters':
          return sendJson(res, 200, state.counters);
        case 'POST /__fake/reset':
          state.reset();
          return sendJson(res, 200, { ok: true });
        case 'POST /__fake/device/approve':
        case 'POST /__fake/device/deny':
        case 'POST /__fake/device/expire': {
          const userCode = String(input.user_code ?? '');
          if (path.endsWith('approve')) state.approveDevice(userCode);
          else if (path.endsWith('deny')) state.denyDevice(userCode);
          else state.expireDevice(userCode);
          return sendJson(res, 200, { ok: true });
        }
        default:
          return sendJson(res, 404, { error: `no control endpoint ${route}` });
      }
    } catch (err) {
      return sendJson(res, 400, { error: err instanceof Error ? err.message : String(err) });
    }
  };

  return async (req, res) => {
    const body = await readBody(req);
    const headers = flatHeaders(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    if (path.startsWith('/__fake/')) return control(req, res, path, body);
    const contentType = headers['content-type'] ?? '';
    state.record({
      server: 'oauth',
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      headers,
      body,
      json: contentType.includes('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(body)) : tryParseJson(body),
      at: state.clock.now(),
    });
    const route = `${req.method} ${path}`;
    switch (route) {
      case 'POST /api/v1/oauth2/device/code':
        return deviceCode(parseParams(body, contentType), headers)(res);
      case 'POST /api/v1/oauth2/token':
        return token(req, res, body, headers);
      case 'POST /api/v2/oauth2/authorize': {
        // The real browser-side approval; here anyone holding the user_code may approve.
        const userCode = parseParams(body, contentType).user_code ?? '';
        try {
          state.approveDevice(userCode);
          return sendJson(res, 200, { success: true });
        } catch {
          return sendJson(res, 400, oauthError('invalid_request', 'Unknown user_code'));
        }
      }
      case 'GET /authorize':
        return sendText(res, 200, 'text/html; charset=utf-8', `<html><body>Authorize ${url.searchParams.get('user_code') ?? ''}</body></html>`);
      case 'GET /login':
        return sendText(res, 200, 'text/html; charset=utf-8', MISSING_UA_HTML);
      default:
        return sendJson(res, 404, oauthError('not_found', `No route ${route}`));
    }
  };
}
