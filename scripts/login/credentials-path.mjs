// @ts-check
import os from 'node:os';
import path from 'node:path';
import { LoginError, EXIT_USAGE } from './login-error.mjs';

/** The gateway's rule for account ids (lib/credentials/parse-qwen-cli-auth.ts). */
const ACCOUNT_NAME = /^[A-Za-z0-9_.-]{1,40}$/;
/** `--account default` means the unnamed account, Qwen Code's own file. */
export const DEFAULT_ACCOUNT = 'default';

/**
 * `~/.qwen`, where Qwen Code keeps its credentials; like Qwen Code, falls back to the temp dir
 * when there is no home. Reads HOME through os.homedir(), so tests can point it elsewhere.
 */
export function qwenDir() {
  return path.join(os.homedir() || os.tmpdir(), '.qwen');
}

/**
 * Where a login is written: `--output` wins; otherwise Qwen Code's `oauth_creds.json` for the
 * default account and `oauth_creds_<NAME>.json` for a named one (the accounts-pool convention of
 * other Qwen proxies).
 * @param {{ account?: string, output?: string }} options
 */
export function credentialsPath({ account, output }) {
  if (output) return path.resolve(output);
  return account && account !== DEFAULT_ACCOUNT
    ? path.join(qwenDir(), `oauth_creds_${account}.json`)
    : path.join(qwenDir(), 'oauth_creds.json');
}

/**
 * @param {string} name
 * @returns {string}
 */
export function checkAccountName(name) {
  if (!ACCOUNT_NAME.test(name)) {
    throw new LoginError(
      `--account must be 1-40 letters, digits, "_", "-" or "." (got ${JSON.stringify(name)}).`,
      { exitCode: EXIT_USAGE },
    );
  }
  return name;
}

/**
 * The account a file in `~/.qwen` holds, or undefined for files that are not credentials.
 * @param {string} fileName
 */
export function accountOfFileName(fileName) {
  if (fileName === 'oauth_creds.json') return DEFAULT_ACCOUNT;
  const match = /^oauth_creds_(.+)\.json$/.exec(fileName);
  return match?.[1] && ACCOUNT_NAME.test(match[1]) && match[1] !== DEFAULT_ACCOUNT ? match[1] : undefined;
}
