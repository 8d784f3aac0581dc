import { execFileSync } from 'node:child_process';

/**
 * End-to-end suites run what ships: the Worker exactly as `wrangler deploy` bundles it. Built once
 * per test run.
 */
export default function setup(): void {
  execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', 'dist/cloudflare'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  });
}
