#!/usr/bin/env node
// @ts-check
// `npm run dev:vercel`: the api/ functions on http://127.0.0.1:3000 (PORT to change it) in Vercel's
// Edge runtime emulator, with vercel.json's rewrites, so the OpenAI base URL is …/v1 as on Vercel.
// No vercel CLI and no login. The env is this process's plus .env.local (where
// `npm run login -- --to dev-vars` puts QWEN_CLI_AUTH); a variable set in both keeps the process's
// value, as dotenv and Vercel's own tools do. Restart to pick up code changes.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseDotenv } from './vercel/dotenv.mjs';
import { startVercelDevServer } from './vercel/dev-server.mjs';

export { startVercelDevServer };

async function main() {
  const fileEnv = await readFile('.env.local', 'utf8').then(parseDotenv, (error) => {
    if (error.code !== 'ENOENT') throw error;
    console.warn('No .env.local: set QWEN_CLI_AUTH there (npm run login -- --to dev-vars), or the gateway will answer 503.');
    return {};
  });
  const port = Number(process.env.PORT ?? 3000);
  // A development server: NODE_ENV=development unless set (@vercel/edge-config, for one, has a
  // development mode; tests start the server without it and get production behaviour).
  const env = { NODE_ENV: 'development', ...fileEnv, ...process.env };
  const server = await startVercelDevServer({ env, port });
  console.log(`Vercel functions (edge-runtime) ready on ${server.url}  (OpenAI base URL: ${server.url}/v1)`);
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.once(signal, () => void server.close().then(() => process.exit(0)));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
