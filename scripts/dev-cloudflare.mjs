#!/usr/bin/env node
// `npm run dev`: the Worker on http://127.0.0.1:8787 under `wrangler dev`, with local KV (and
// Durable Objects) persisted in .wrangler/state. Secrets come from .dev.vars (`npm run login -- --to dev-vars`).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const port = process.env.PORT ?? '8787';
if (!existsSync('.dev.vars')) {
  console.warn('No .dev.vars: set QWEN_CLI_AUTH there (npm run login -- --to dev-vars), or the gateway will answer 503.');
}
// npx, wrangler and workerd get a process group of their own, so that stopping this script stops
// all of them: npx does not pass a signal on, and wrangler left workerd running when it was killed.
// The group is not the terminal's foreground group, so it must not read the terminal (a read would
// stop it): no stdin, and no interactive hotkeys; Ctrl-C reaches this script, which passes it on.
const child = spawn(
  'npx',
  ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', port, '--show-interactive-dev-session=false', ...process.argv.slice(2)],
  {
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
    // No telemetry, and no start-up call to Cloudflare for request.cf data: runs offline and without a login.
    env: { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', ...process.env },
  },
);

/** Signals the whole group; it may be gone already. */
const signalGroup = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
};

/** Whether anything of the group still runs (a zombie has stopped; reaping it is not ours to do). */
const groupRuns = () =>
  execFileSync('ps', ['-eo', 'pgid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .some((line) => {
      const [pgid, stat] = line.trim().split(/\s+/);
      return Number(pgid) === child.pid && stat !== undefined && !stat.startsWith('Z');
    });

/** Resolves once the group has stopped: asked with `signal`, then killed after `graceMs`. */
function stopGroup(signal, graceMs = 5_000) {
  signalGroup(signal);
  const deadline = Date.now() + graceMs;
  return new Promise((resolve) => {
    const check = () => {
      if (!groupRuns()) return resolve(undefined);
      if (Date.now() > deadline) signalGroup('SIGKILL');
      setTimeout(check, 100);
    };
    check();
  });
}

let stopping;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping) return signalGroup('SIGKILL'); // a second Ctrl-C: now
    // wrangler stops workerd on its way out; whatever is still there after 5 s is killed.
    stopping = stopGroup(signal).then(() => process.exit(0));
  });
}
child.on('exit', (code, signal) => {
  // npx can exit before what it started: the rest of the group goes too, before this script does.
  void (stopping ?? stopGroup('SIGTERM').then(() => process.exit(code ?? (signal ? 1 : 0))));
});
