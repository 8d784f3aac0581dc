#!/usr/bin/env node
// @ts-check
// Time to first byte of a small streaming chat completion, straight to the fake Qwen vs. through the
// Vercel functions in edge-runtime (the dev server), in one run: same fake, same body, one
// sequential keep-alive client, the two targets alternated request by request so drift hits both.
//   node scripts/vercel/ttfb-probe.mjs [requests=50]
// The fake is TypeScript: it is bundled for Node on the fly (esbuild) into a temporary file.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { startVercelDevServer } from './dev-server.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const N = Number(process.argv[2] ?? 50);
const WARMUP = 10;

const dir = await mkdtemp(path.join(tmpdir(), 'ttfb-'));
const fakeModule = path.join(dir, 'fake-qwen.mjs');
await build({
  entryPoints: [path.join(ROOT, 'tests/fake-qwen/index.ts')],
  outfile: fakeModule,
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  absWorkingDir: ROOT,
  logLevel: 'silent',
});
const { startFakeQwen } = await import(pathToFileURL(fakeModule).href);
// No rpm limit or daily quota: the probe sends more than Qwen's free tier allows in a minute.
const fake = await startFakeQwen({ resourceUrlStyle: 'http', rpmLimit: null, dailyQuota: null });
const credentials = fake.mintCredentials();
const gateway = await startVercelDevServer({
  port: 0,
  env: {
    QWEN_CLI_AUTH: JSON.stringify(credentials),
    QWEN_OAUTH_BASE_URL: fake.oauthUrl,
    OPENAI_API_KEY: 'sk-probe',
    LOG_LEVEL: 'error',
  },
});

const body = JSON.stringify({ model: 'coder-model', stream: true, messages: [{ role: 'user', content: 'hi there' }] });
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/**
 * One POST; resolves with ms to the first body byte and ms to the end.
 * @param {string} url @param {Record<string, string>} headers
 */
function timed(url, headers) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - start) / 1e6;
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let first = -1;
      let text = '';
      res.on('data', (chunk) => {
        if (first < 0) first = ms();
        text += chunk;
      });
      res.on('end', () => {
        if (res.statusCode !== 200 || !text.includes('[DONE]')) reject(new Error(`${url}: ${res.statusCode} ${text.slice(0, 200)}`));
        else resolve({ ttfb: first, total: ms() });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const targets = {
  direct: () => timed(`${fake.apiUrl}/v1/chat/completions`, { authorization: `Bearer ${credentials.access_token}` }),
  vercel: () => timed(`${gateway.url}/v1/chat/completions`, { authorization: 'Bearer sk-probe' }),
};
/** @type {Record<string, Array<{ ttfb: number, total: number }>>} */
const samples = { direct: [], vercel: [] };
try {
  for (let i = 0; i < WARMUP; i += 1) for (const run of Object.values(targets)) await run();
  for (let i = 0; i < N; i += 1) {
    for (const [name, run] of Object.entries(targets)) samples[name]?.push(/** @type {any} */ (await run()));
  }
} finally {
  agent.destroy();
  await gateway.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
}

/** @param {number[]} values @param {number} q */
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const fmt = (/** @type {number} */ v) => v.toFixed(2).padStart(7);
console.log(`${N} sequential streaming requests per target (after ${WARMUP} warm-up each), keep-alive, alternated; ms`);
console.log('target   ttfb p50  ttfb p90  ttfb p99  total p50');
for (const [name, list] of Object.entries(samples)) {
  const ttfb = list.map((s) => s.ttfb);
  const total = list.map((s) => s.total);
  console.log(`${name.padEnd(8)} ${fmt(quantile(ttfb, 0.5))}   ${fmt(quantile(ttfb, 0.9))}   ${fmt(quantile(ttfb, 0.99))}   ${fmt(quantile(total, 0.5))}`);
}
const overhead = quantile(samples.vercel?.map((s) => s.ttfb) ?? [], 0.5) - quantile(samples.direct?.map((s) => s.ttfb) ?? [], 0.5);
console.log(`gateway overhead on p50 time to first byte: ${overhead.toFixed(2)} ms`);
