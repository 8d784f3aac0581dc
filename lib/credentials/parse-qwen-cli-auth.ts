import { GatewayError } from '../errors.ts';
import type { AccountSeed, QwenCredentials } from './qwen-credentials.ts';
import { fingerprint } from '../util/fingerprint.ts';

const HOW_TO_GET =
  'Run `npm run login` (or log in with Qwen Code and copy ~/.qwen/oauth_creds.json), then set QWEN_CLI_AUTH to that JSON; ' +
  'with a Qwen API key (DashScope, Coding Plan, ModelScope), set QWEN_API_KEY instead.';

export type ParsedAccounts = { ok: true; accounts: AccountSeed[] } | { ok: false; error: GatewayError };

/**
 * QWEN_CLI_AUTH holds one credentials object exactly as Qwen Code writes it, or a JSON array of them
 * (one per account). An optional string `id` on an object names the account; otherwise the id is a
 * fingerprint of its refresh token. Problems are returned, not thrown: /health must keep answering.
 */
export async function parseQwenCliAuth(raw: string | undefined): Promise<ParsedAccounts> {
  if (raw === undefined || raw.trim() === '') {
    return fail(
      'qwen_credentials_missing',
      'No Qwen credentials are configured. Set QWEN_API_KEY to a Qwen API key (Coding Plan `sk-sp-...`, Token Plan, ' +
        'DashScope or ModelScope; several providers at once with QWEN_API_KEYS). For a legacy Qwen Code OAuth login, set ' +
        'QWEN_CLI_AUTH instead (`npm run login`).',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('qwen_credentials_malformed', `QWEN_CLI_AUTH is not valid JSON. ${HOW_TO_GET}`);
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length === 0) return fail('qwen_credentials_missing', `QWEN_CLI_AUTH is an empty array. ${HOW_TO_GET}`);
  const accounts: AccountSeed[] = [];
  for (const [index, item] of items.entries()) {
    const where = Array.isArray(parsed) ? `QWEN_CLI_AUTH[${index}]` : 'QWEN_CLI_AUTH';
    const problem = validate(item);
    if (problem) return fail('qwen_credentials_malformed', `${where} ${problem}. ${HOW_TO_GET}`);
    const creds = item as QwenCredentials & { id?: unknown };
    const lineage = await fingerprint(creds.refresh_token);
    const id = typeof creds.id === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(creds.id) ? creds.id : `q${lineage}`;
    if (accounts.some((a) => a.id === id)) {
      return fail('qwen_credentials_malformed', `${where} repeats account "${id}"; each account may appear once.`);
    }
    accounts.push({
      id,
      kind: 'qwen-oauth',
      lineage,
      credentials: {
        access_token: creds.access_token,
        refresh_token: creds.refresh_token,
        token_type: creds.token_type || 'Bearer',
        ...(typeof creds.resource_url === 'string' && creds.resource_url ? { resource_url: creds.resource_url } : {}),
        expiry_date: creds.expiry_date === undefined ? 0 : Number(creds.expiry_date),
      },
    });
  }
  return { ok: true, accounts };
}

/**
 * What is wrong with QWEN_CLI_AUTH as written, checked synchronously when the config loads; undefined
 * when it is unset (which is not a configuration error: API keys may serve instead) or well formed.
 */
export function qwenCliAuthProblem(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const accepted = 'accepted: the JSON object Qwen Code writes to ~/.qwen/oauth_creds.json (access_token, refresh_token, expiry_date), or a JSON array of them';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return `QWEN_CLI_AUTH is not valid JSON; ${accepted}.`;
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  for (const [index, item] of items.entries()) {
    const problem = validate(item);
    if (problem) return `${Array.isArray(parsed) ? `QWEN_CLI_AUTH[${index}]` : 'QWEN_CLI_AUTH'} ${problem}; ${accepted}.`;
  }
  return undefined;
}

function validate(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'must be a JSON object';
  const c = item as Record<string, unknown>;
  if (typeof c.refresh_token !== 'string' || c.refresh_token === '') return 'has no refresh_token';
  if (typeof c.access_token !== 'string') return 'has no access_token';
  if (c.expiry_date !== undefined && !Number.isFinite(Number(c.expiry_date))) return 'has a non-numeric expiry_date';
  return undefined;
}

function fail(code: string, message: string): ParsedAccounts {
  return {
    ok: false,
    error: new GatewayError({
      status: 503,
      type: 'server_error',
      code,
      message,
      headers: { 'x-should-retry': 'false' },
    }),
  };
}
