#!/usr/bin/env node
// @ts-check
/**
 * `npm run login`: signs in to Qwen with the OAuth device flow (no Qwen Code needed), saves the
 * credentials as Qwen Code does, and hands them to a deployment of the gateway.
 * `npm run login -- --help` lists the options; the pieces live in scripts/login/.
 */
import path from 'node:path';
import { askHandOverTargets } from './login/ask-hand-over-targets.mjs';
import { writeCredentialsFile } from './login/credentials-file.mjs';
import { credentialsPath, DEFAULT_ACCOUNT, qwenDir } from './login/credentials-path.mjs';
import { deviceLogin } from './login/device-login.mjs';
import { handOver } from './login/hand-over.mjs';
import { importCredentials } from './login/import-credentials.mjs';
import { EXIT_FAILED, EXIT_INTERRUPTED, LoginError } from './login/login-error.mjs';
import { parseLoginArgs, USAGE } from './login/parse-login-args.mjs';
import { DEFAULT_POLL_INTERVAL_MS } from './login/poll-for-token.mjs';
import { oauthBaseUrlFrom } from './login/qwen-oauth-constants.mjs';

const env = process.env;
/** @param {string} [line] */
const print = (line = '') => process.stdout.write(`${line}\n`);

// Ctrl-C aborts whatever is in flight (a poll, a sleep, a prompt) so the CLI can say so and leave
// no temp files; a second Ctrl-C quits at once.
const controller = new AbortController();
/** Set once the credentials file is written, so that a later Ctrl-C can say it is still there. */
let savedFile = '';
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort(new LoginError('Cancelled.', { exitCode: EXIT_INTERRUPTED }));
  });
}

process.exitCode = await main().catch((error) => {
  if (controller.signal.aborted) {
    process.stdout.write('\n');
    process.stderr.write(
      savedFile ? `Cancelled. The credentials stay saved in ${savedFile}.\n` : 'Cancelled. Nothing was written.\n',
    );
    return EXIT_INTERRUPTED;
  }
  if (error instanceof LoginError) {
    process.stderr.write(`✖ ${error.message}\n`);
    return error.exitCode;
  }
  // A bug, not a user error: keep the stack, it is what a bug report needs.
  process.stderr.write(`✖ Unexpected error (please report it): ${error instanceof Error ? error.stack : error}\n`);
  return EXIT_FAILED;
});

/** @returns {Promise<number>} */
async function main() {
  const args = parseLoginArgs(process.argv.slice(2));
  if (args.help) {
    print(USAGE);
    return 0;
  }
  const signal = controller.signal;
  const oauthBaseUrl = oauthBaseUrlFrom(env);
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !isCi(env);
  const file = credentialsPath(args);
  const account = args.account ?? DEFAULT_ACCOUNT;
  // ~/.qwen holds nothing but secrets and may be tightened; a directory given with --output may not.
  const privateDir = path.dirname(file) === qwenDir();

  const credentials = args.import
    ? await importCredentials({ file, privateDir, oauthBaseUrl, print, signal })
    : await deviceLogin({
        oauthBaseUrl,
        pollIntervalMs: pollIntervalFrom(env),
        interactive,
        browser: args.browser,
        qr: args.qr ?? Boolean(process.stdout.isTTY),
        env,
        print,
        stream: process.stdout,
        signal,
      });
  if (!args.import) {
    await writeCredentialsFile(file, credentials, { privateDir });
    print(`✔ Signed in. Credentials saved to ${file} (mode 0600).`);
  }
  savedFile = file;

  const targets = args.to.length > 0 || !interactive ? args.to : await askHandOverTargets(signal);
  print();
  if (targets.length === 0) {
    printHowToUse(args, file);
    return 0;
  }
  await handOver({ id: account, file, credentials }, { targets, only: args.only, cwd: process.cwd(), env, print });
  return 0;
}

/**
 * @param {import('./login/parse-login-args.mjs').LoginArgs} args
 * @param {string} file
 */
function printHowToUse(args, file) {
  const again = ['npm run login -- --import'];
  if (args.output) again.push(`--output ${args.output}`);
  if (args.account) again.push(`--account ${args.account}`);
  const command = again.join(' ');
  print('The gateway reads these credentials from QWEN_CLI_AUTH (the JSON of the file above).');
  print('Hand them over with one of:');
  print(`  ${command} --to dev-vars     # .dev.vars + .env.local, for npm run dev / dev:vercel`);
  print(`  ${command} --to cloudflare   # wrangler secret put QWEN_CLI_AUTH`);
  print(`  ${command} --to vercel       # prints the vercel env add commands`);
  print(`(Or pass --to to the login itself next time. The file: ${file})`);
}

/**
 * QWEN_LOGIN_POLL_MS can only shorten the first interval (tests would otherwise wait 2 s per poll);
 * slow_down still backs off from there. Without it, Qwen Code's 2 s schedule applies.
 * @param {NodeJS.ProcessEnv} env
 */
function pollIntervalFrom(env) {
  const value = Number(env.QWEN_LOGIN_POLL_MS);
  return Number.isFinite(value) && value > 0 ? Math.min(value, DEFAULT_POLL_INTERVAL_MS) : undefined;
}

/** @param {NodeJS.ProcessEnv} env */
function isCi(env) {
  const ci = env.CI?.trim().toLowerCase();
  return Boolean(ci) && ci !== '0' && ci !== 'false';
}
