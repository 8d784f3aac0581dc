#!/usr/bin/env node
// `npm run dev`: the Worker on http://127.0.0.1:8787 under `wrangler dev`, with local KV (and
// Durable Objects) persisted in .wrangler/state. Secrets come from .dev.vars (`npm run login -- --to dev-vars`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const port = process.env.PORT ?? '8787';
if (!existsSync('.dev.vars')) {
  console.warn('No .dev.vars: set QWEN_CLI_AUTH there (npm run login -- --to dev-vars), or the gateway will answer 503.');
}
const child = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', port, ...process.argv.slice(2)], {
  stdio: 'inherit',
  // No telemetry, and no start-up call to Cloudflare for request.cf data: runs offline and without a login.
  env: { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', ...process.env },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
