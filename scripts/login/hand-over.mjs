// @ts-check
import path from 'node:path';
import { buildQwenCliAuth } from './build-qwen-cli-auth.mjs';
import { collectAccounts } from './collect-accounts.mjs';
import { qwenDir } from './credentials-path.mjs';
import { putCloudflareSecret } from './put-cloudflare-secret.mjs';
import { writeDevVars } from './write-dev-vars.mjs';
import { writeFileAtomic } from './write-file-atomic.mjs';

/** Where `--to` can put the credentials. */
export const HAND_OVER_TARGETS = /** @type {const} */ (['dev-vars', 'cloudflare', 'vercel']);
/** @typedef {typeof HAND_OVER_TARGETS[number]} HandOverTarget */

/**
 * Puts QWEN_CLI_AUTH where the gateway reads it. The value is never printed: deployments that are
 * set from a shell (Cloudflare by hand, Vercel) read it from a 0600 file instead.
 * @param {import('./collect-accounts.mjs').Account} current
 * @param {object} options
 * @param {HandOverTarget[]} options.targets
 * @param {boolean} options.only
 * @param {string} options.cwd
 * @param {NodeJS.ProcessEnv} options.env
 * @param {(line?: string) => void} options.print
 */
export async function handOver(current, { targets, only, cwd, env, print }) {
  const { accounts, notes } = await collectAccounts(current, { only });
  for (const note of notes) print(`  ${note}`);
  const value = buildQwenCliAuth(accounts);
  const form = accounts.length === 1 ? 'one account' : `${accounts.length} accounts, as an array`;
  print(`QWEN_CLI_AUTH holds ${form}: ${accounts.map((a) => `${a.id} (${a.file})`).join(', ')}`);

  // The value on its own, for commands that read it from stdin.
  const valueFile = path.join(qwenDir(), 'qwen_cli_auth.json');
  if (targets.includes('cloudflare') || targets.includes('vercel')) {
    await writeFileAtomic(valueFile, value, { privateDir: true });
  }
  const fromFile = `< ${shellQuote(valueFile)}`;

  for (const target of targets) {
    if (target === 'dev-vars') {
      const files = await writeDevVars(cwd, value);
      print(`✔ Set QWEN_CLI_AUTH in ${files.join(' and ')} (for \`npm run dev\` and \`npm run dev:vercel\`).`);
    } else if (target === 'cloudflare') {
      print('Running `wrangler secret put QWEN_CLI_AUTH` (the value goes in on stdin)...');
      await putCloudflareSecret(cwd, value, env, `npx wrangler secret put QWEN_CLI_AUTH ${fromFile}`);
      print('✔ Cloudflare secret QWEN_CLI_AUTH set.');
    } else {
      print('To give it to Vercel, run (with the vercel CLI, logged in and linked to the project):');
      for (const environment of ['production', 'preview', 'development']) {
        print(`  vercel env add QWEN_CLI_AUTH ${environment} ${fromFile}`);
      }
      print('  (it replaces nothing: `vercel env rm QWEN_CLI_AUTH <environment> --yes` first if it exists,');
      print(`  or paste the content of ${valueFile} in the dashboard: Settings > Environment Variables)`);
    }
  }
  print();
  // Refresh tokens are single-use (protocol §2): two users of one login log each other out.
  print('The gateway refreshes these tokens itself. Qwen refresh tokens are single-use, so a login shared');
  print('by two deployments (or by a deployment and Qwen Code) logs one of them out: sign in once per');
  print('place with `--account NAME`.');
}

/** @param {string} text */
function shellQuote(text) {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
