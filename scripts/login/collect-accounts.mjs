// @ts-check
import fs from 'node:fs/promises';
import path from 'node:path';
import { accountOfFileName, DEFAULT_ACCOUNT, qwenDir } from './credentials-path.mjs';
import { readCredentialsFile } from './credentials-file.mjs';
import { LoginError } from './login-error.mjs';

/**
 * @typedef {object} Account
 * @property {string} id  "default" for Qwen Code's own file, else the --account name
 * @property {string} file
 * @property {import('./to-qwen-credentials.mjs').QwenCredentials} credentials
 */

/**
 * The accounts to hand over: the one just signed in (or imported) plus every other account saved
 * in ~/.qwen (`oauth_creds.json` and `oauth_creds_<NAME>.json`), so that logging in account after
 * account builds up the gateway's pool. `only`, or a login written elsewhere with --output, hands
 * over that single account. Two files holding the same login are handed over once: the gateway
 * would otherwise refresh it twice and, refresh tokens being single-use, kill one copy (protocol §2).
 * @param {Account} current
 * @param {{ only: boolean }} options
 * @returns {Promise<{ accounts: Account[], notes: string[] }>}
 */
export async function collectAccounts(current, { only }) {
  const dir = qwenDir();
  if (only || path.dirname(current.file) !== dir) return { accounts: [current], notes: [] };

  /** @type {string[]} */
  const notes = [];
  /** @type {Account[]} */
  const accounts = [current];
  /** @type {string[]} */
  let names = [];
  try {
    names = await fs.readdir(dir);
  } catch {
    // No directory means no other accounts.
  }
  for (const name of names.sort()) {
    const id = accountOfFileName(name);
    const file = path.join(dir, name);
    if (id === undefined || file === current.file) continue;
    try {
      accounts.push({ id, file, credentials: await readCredentialsFile(file) });
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      notes.push(`Skipped ${file}: ${error.message}`);
    }
  }

  /** @type {Account[]} */
  const unique = [];
  for (const account of accounts) {
    const twin = unique.find((a) => a.credentials.refresh_token === account.credentials.refresh_token);
    if (twin) notes.push(`Skipped ${account.file}: it holds the same login as ${twin.file}.`);
    else unique.push(account);
  }
  // Stable order: the default account first, then by name.
  unique.sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
  return { accounts: unique, notes };
}

/** @param {Account} account */
function rank(account) {
  return account.id === DEFAULT_ACCOUNT ? 0 : 1;
}
