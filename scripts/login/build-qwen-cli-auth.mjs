// @ts-check
import { DEFAULT_ACCOUNT } from './credentials-path.mjs';

/**
 * The value of QWEN_CLI_AUTH, on one line. One account: its credentials object, exactly Qwen Code's
 * file, plus `id` when the account has a name. Several: the array form, every object with its `id`
 * so the gateway's account ids (used in logs and storage keys) stay stable across new logins.
 * @param {import('./collect-accounts.mjs').Account[]} accounts
 */
export function buildQwenCliAuth(accounts) {
  if (accounts.length === 1) {
    const [only] = /** @type {[import('./collect-accounts.mjs').Account]} */ (accounts);
    return JSON.stringify(only.id === DEFAULT_ACCOUNT ? only.credentials : { id: only.id, ...only.credentials });
  }
  return JSON.stringify(accounts.map((a) => ({ id: a.id, ...a.credentials })));
}
