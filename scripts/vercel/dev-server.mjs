// @ts-check
// The api/ functions in Vercel's Edge runtime emulator (edge-runtime), routed as Vercel routes them
// (routing.mjs). `npm run dev:vercel` and the e2e tests both start the gateway through
// startVercelDevServer, so the tests exercise exactly what a developer runs.
//
// Every function is bundled for the edge (esbuild, platform "browser", the "edge-light" condition
// first, as Vercel resolves packages for Edge Functions) into one classic script, evaluated in a
// fresh EdgeRuntime: the only globals are Web APIs, plus `process.env` because we inject it. A
// `node:` import fails the build, and a `require` or Node global fails at run time, as on Vercel.
// (Vercel gives each function its own bundle and isolates; here they share one, so an isolate's
// token cache is shared by all of them. Each server is a cold start.)
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, formatMessages } from 'esbuild';
import { EdgeRuntime, createHandler } from 'edge-runtime';
import { createRouter, readRewrites } from './routing.mjs';

const DEFAULT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROUTING_MODULE = fileURLToPath(new URL('./routing.mjs', import.meta.url));

/**
 * @typedef {object} VercelDevServerOptions
 * @property {Record<string, string | undefined>} [env] what the functions see as process.env (nothing else is added)
 * @property {number} [port] 0 picks a free port; default 3000
 * @property {string} [host] default 127.0.0.1
 * @property {string} [root] the project (where api/ and vercel.json are); default this repository
 * @property {Pick<Console, 'log' | 'info' | 'warn' | 'error' | 'debug'>} [console] receives the functions'
 *   console output (their log lines); default the runtime's own console, which prints here
 */

/**
 * @param {VercelDevServerOptions} [options]
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startVercelDevServer({ env = {}, port = 3000, host = '127.0.0.1', root = DEFAULT_ROOT, console: sink } = {}) {
  const initialCode = await bundleFunctions(root);
  /** @type {Record<string, string>} */
  const processEnv = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string') processEnv[name] = value;
  const runtime = new EdgeRuntime({
    initialCode,
    extend: (context) => Object.assign(context, { process: { env: processEnv } }, sink ? { console: sink } : {}),
  });

  const { handler, waitUntil } = createHandler({ runtime });
  const server = http.createServer((req, res) => {
    // A response body that errors mid-way rejects here; cut the connection, as a platform does,
    // rather than let it become an unhandled rejection.
    handler(req, res).catch((error) => res.destroy(error instanceof Error ? error : new Error(String(error))));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    async close() {
      const closed = new Promise((resolve) => server.close(() => resolve(undefined)));
      // Streams still open (a stalled upstream) are cut, as when the dev server is stopped.
      server.closeAllConnections();
      await closed;
      // Give background work (waitUntil: a stream's log line, store writes) a moment to finish.
      await Promise.race([waitUntil(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    },
  };
}

/**
 * One classic script holding every api/ function and a fetch listener that routes to them.
 * @param {string} root
 * @returns {Promise<string>}
 */
export async function bundleFunctions(root) {
  const files = (await listFiles(path.join(root, 'api'))).map((file) => path.relative(root, file).split(path.sep).join('/'));
  const vercelJson = await readFile(path.join(root, 'vercel.json'), 'utf8').then(JSON.parse, (error) => {
    if (error.code === 'ENOENT') return {};
    throw new Error(`vercel.json: ${error.message}`);
  });
  // The same checks the bundle repeats, here first so a bad vercel.json fails before any bundling.
  const router = createRouter(files, readRewrites(vercelJson));
  router.check();
  if (router.functions.length === 0) throw new Error(`no functions under ${path.join(root, 'api')}`);

  const imports = router.functions.map((fn, i) => `import * as fn${i} from ${JSON.stringify(path.join(root, fn.file))};`);
  const modules = router.functions.map((fn, i) => `  ${JSON.stringify(fn.file)}: fn${i},`);
  const entry = `
import { createRouter, readRewrites } from ${JSON.stringify(ROUTING_MODULE)};
${imports.join('\n')}

const modules = {
${modules.join('\n')}
};
for (const [file, mod] of Object.entries(modules)) {
  // Without it Vercel would deploy the file as a Node.js function, which this server cannot emulate.
  if (mod.config?.runtime !== 'edge') throw new Error(file + ": export const config = { runtime: 'edge' } is missing");
}
const routing = createRouter(${JSON.stringify(files)}, readRewrites(${JSON.stringify(vercelJson)}));

async function serve(request, context) {
  const found = routing.resolve(new URL(request.url).pathname);
  if (!found) return vercelError(404, 'NOT_FOUND', 'The page could not be found.');
  const mod = modules[found.fn.file];
  const fn = typeof mod.default === 'function' ? mod.default : mod[request.method];
  if (typeof fn !== 'function') return vercelError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed.');
  try {
    return await fn(request, context);
  } catch (error) {
    console.error(found.fn.file + ' threw:', error);
    return vercelError(500, 'EDGE_FUNCTION_INVOCATION_FAILED', 'An error occurred with this application.');
  }
}

/** Vercel's own error pages are plain text with the code in x-vercel-error. */
function vercelError(status, code, message) {
  return new Response(message + '\\n\\n' + code + '\\n', {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-vercel-error': code },
  });
}

addEventListener('fetch', (event) => {
  event.respondWith(serve(event.request, { waitUntil: (promise) => event.waitUntil(promise) }));
});
`;
  try {
    const result = await build({
      stdin: { contents: entry, resolveDir: root, sourcefile: 'vercel-dev-entry.mjs', loader: 'js' },
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      conditions: ['edge-light', 'worker', 'browser'],
      target: 'es2022',
      // For the browser platform esbuild would bake in NODE_ENV ("development" when not minifying);
      // leave it to the env we inject, so the functions see exactly the env they are given.
      define: { 'process.env.NODE_ENV': 'process.env.NODE_ENV' },
      logLevel: 'silent',
    });
    return /** @type {import('esbuild').OutputFile} */ (result.outputFiles[0]).text;
  } catch (error) {
    const errors = /** @type {{ errors?: import('esbuild').Message[] }} */ (error).errors;
    if (!errors) throw error;
    const text = (await formatMessages(errors, { kind: 'error', color: false })).join('\n');
    throw new Error(`The api/ functions do not build for the Edge runtime:\n${text}`);
  }
}

/**
 * @param {string} dir
 * @returns {Promise<string[]>}
 */
async function listFiles(dir) {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? listFiles(full) : Promise.resolve(entry.isFile() ? [full] : []);
    }),
  );
  return nested.flat().sort();
}
