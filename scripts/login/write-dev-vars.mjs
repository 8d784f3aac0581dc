// @ts-check
import fs from 'node:fs/promises';
import path from 'node:path';
import { upsertDotenvLine } from './upsert-dotenv-line.mjs';
import { writeFileAtomic } from './write-file-atomic.mjs';

/** `npm run dev` (wrangler) reads .dev.vars; `npm run dev:vercel` (vercel dev) reads .env.local. */
export const DEV_VARS_FILES = ['.dev.vars', '.env.local'];

/**
 * Sets QWEN_CLI_AUTH in both local env files, keeping their other lines. Both are git-ignored
 * (.gitignore) and rewritten 0600, since they now hold tokens.
 * @param {string} cwd  the project root (npm runs scripts there)
 * @param {string} value
 * @returns {Promise<string[]>} the files written
 */
export async function writeDevVars(cwd, value) {
  const written = [];
  for (const name of DEV_VARS_FILES) {
    const file = path.join(cwd, name);
    let text = '';
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'ENOENT') throw error;
    }
    await writeFileAtomic(file, upsertDotenvLine(text, 'QWEN_CLI_AUTH', value));
    written.push(file);
  }
  return written;
}
