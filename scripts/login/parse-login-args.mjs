// @ts-check
import { parseArgs } from 'node:util';
import { checkAccountName } from './credentials-path.mjs';
import { HAND_OVER_TARGETS } from './hand-over.mjs';
import { EXIT_USAGE, LoginError } from './login-error.mjs';

export const USAGE = `Sign in to Qwen (OAuth device flow) and hand the credentials to the gateway.

Usage: npm run login -- [options]

  --output FILE     write the credentials to FILE (default ~/.qwen/oauth_creds.json)
  --account NAME    sign in another account, saved as ~/.qwen/oauth_creds_NAME.json
  --import          do not sign in: use the saved credentials (Qwen Code's file, by default),
                    refreshing them first if they have expired
  --to TARGET       then put them where the gateway reads them (repeatable, or comma-separated):
                      dev-vars    QWEN_CLI_AUTH in .dev.vars and .env.local (npm run dev, dev:vercel)
                      cloudflare  wrangler secret put QWEN_CLI_AUTH
                      vercel      print the \`vercel env add\` commands
  --only            hand over this account only, not every account saved in ~/.qwen
  --no-browser      do not open a browser
  --qr / --no-qr    draw the URL as a QR code (default: only on a terminal)
  -h, --help        show this help

Environment: QWEN_OAUTH_BASE_URL (OAuth server, as for the gateway), QWEN_LOGIN_POLL_MS (first poll
interval, at most the default 2000), QWEN_LOGIN_WRANGLER (wrangler executable for --to cloudflare).`;

/**
 * @typedef {object} LoginArgs
 * @property {string} [output]
 * @property {string} [account]
 * @property {boolean} import
 * @property {import('./hand-over.mjs').HandOverTarget[]} to
 * @property {boolean} only
 * @property {boolean} browser
 * @property {boolean | undefined} qr  undefined: decide by whether stdout is a terminal
 * @property {boolean} help
 */

/**
 * @param {string[]} argv  process.argv without node and the script
 * @returns {LoginArgs}
 */
export function parseLoginArgs(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        output: { type: 'string', short: 'o' },
        account: { type: 'string', short: 'a' },
        import: { type: 'boolean', default: false },
        to: { type: 'string', multiple: true, default: [] },
        only: { type: 'boolean', default: false },
        'no-browser': { type: 'boolean', default: false },
        qr: { type: 'boolean' },
        'no-qr': { type: 'boolean' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new LoginError(`${/** @type {Error} */ (error).message}\nRun \`npm run login -- --help\` for the options.`, {
      exitCode: EXIT_USAGE,
    });
  }

  /** @type {import('./hand-over.mjs').HandOverTarget[]} */
  const to = [];
  for (const item of (values.to ?? []).flatMap((v) => v.split(','))) {
    const target = item.trim();
    if (!target) continue;
    const known = HAND_OVER_TARGETS.find((t) => t === target);
    if (!known) {
      throw new LoginError(`Unknown --to ${JSON.stringify(target)}: use ${HAND_OVER_TARGETS.join(', ')}.`, {
        exitCode: EXIT_USAGE,
      });
    }
    if (!to.includes(known)) to.push(known);
  }
  if (values.output === '') throw new LoginError('--output needs a file name.', { exitCode: EXIT_USAGE });

  return {
    ...(values.output !== undefined ? { output: values.output } : {}),
    ...(values.account !== undefined ? { account: checkAccountName(values.account) } : {}),
    import: values.import ?? false,
    to,
    only: values.only ?? false,
    browser: !values['no-browser'],
    qr: values['no-qr'] ? false : values.qr,
    help: values.help ?? false,
  };
}
