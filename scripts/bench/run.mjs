#!/usr/bin/env node
// @ts-check
// `npm run bench [-- --quick] [-- --check] [-- --out FILE]`: bundles scripts/bench/bench.ts (TypeScript,
// importing lib/ and tests/fake-qwen/) for Node with esbuild, into node_modules/.cache so that its
// package imports resolve from this project, then runs it with --expose-gc. Nothing else is needed
// beyond `npm install`.
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = path.join(root, 'node_modules', '.cache', 'qwen-gateway-bench');
const outfile = path.join(dir, `bench-${process.pid}.mjs`);

await mkdir(dir, { recursive: true });
await build({
  entryPoints: [path.join(root, 'scripts/bench/bench.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Packages stay imports (resolved from node_modules); the project's own TypeScript is bundled.
  packages: 'external',
  sourcemap: 'inline',
  absWorkingDir: root,
  logLevel: 'warning',
});
await stop(); // esbuild's service process is not needed while the benchmark runs

const child = spawn(process.execPath, ['--expose-gc', '--enable-source-maps', outfile, 'main', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, BENCH_ROOT: root },
});
const forward = (/** @type {NodeJS.Signals} */ signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', async (code, signal) => {
  await rm(outfile, { force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
