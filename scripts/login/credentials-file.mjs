// @ts-check
import fs from 'node:fs/promises';
import { LoginError } from './login-error.mjs';
import { writeFileAtomic } from './write-file-atomic.mjs';

/** @typedef {import('./to-qwen-credentials.mjs').QwenCredentials} QwenCredentials */

/**
 * Writes credentials exactly as Qwen Code does: `JSON.stringify(creds, null, 2)`, atomically, 0600.
 * @param {string} file
 * @param {QwenCredentials} credentials
 * @param {{ privateDir?: boolean }} [options]
 */
export async function writeCredentialsFile(file, credentials, options) {
  await writeFileAtomic(file, JSON.stringify(credentials, null, 2), options);
}

/**
 * Reads and checks a credentials file (Qwen Code's or ours). Returns it in the file's key order,
 * without extra keys. Messages name the file but never show its content.
 * @param {string} file
 * @returns {Promise<QwenCredentials>}
 */
export async function readCredentialsFile(file) {
  let text;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') {
      throw new LoginError(`No credentials at ${file}. Run \`npm run login\` first (or log in with Qwen Code).`);
    }
    throw new LoginError(`Cannot read ${file}: ${/** @type {Error} */ (error).message}`);
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LoginError(`${file} is not valid JSON. Run \`npm run login\` to write a new one.`);
  }
  const c = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  // The checks Qwen Code applies before trusting the file (validateCredentials, protocol §1).
  const missing = ['access_token', 'refresh_token'].filter((k) => typeof c[k] !== 'string' || c[k] === '');
  if (missing.length > 0 || !Number.isFinite(Number(c.expiry_date))) {
    const what = missing.length > 0 ? `has no ${missing.join(' or ')}` : 'has no numeric expiry_date';
    throw new LoginError(`${file} ${what}. Run \`npm run login\` to write a new one.`);
  }
  return {
    access_token: c.access_token,
    token_type: typeof c.token_type === 'string' && c.token_type ? c.token_type : 'Bearer',
    refresh_token: c.refresh_token,
    ...(typeof c.resource_url === 'string' && c.resource_url ? { resource_url: c.resource_url } : {}),
    expiry_date: Number(c.expiry_date),
  };
}
