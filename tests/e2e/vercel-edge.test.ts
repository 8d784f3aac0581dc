import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { bundleFunctions, startVercelDevServer } from '../../scripts/vercel/dev-server.mjs';
import { createRouter, readRewrites } from '../../scripts/vercel/routing.mjs';
import { parseDotenv } from '../../scripts/vercel/dotenv.mjs';
import { createDeps } from '../../lib/create-deps.ts';
import { handle } from '../../lib/handle.ts';
import { silentLogger } from '../../lib/logger.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';
import { withoutApiPrefix } from '../../vercel/handle-on-vercel.ts';
import { startFakeQwen } from '../fake-qwen/index.ts';

/**
 * What makes the Vercel dev server a faithful stand-in: the functions really are Edge code (a Node
 * import does not build, a Node global does not exist), and paths reach the functions Vercel would
 * pick for them.
 */
const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/** A throwaway project: files relative to its root. */
async function project(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'vercel-dev-'));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  return root;
}
const EDGE = "export const config = { runtime: 'edge' };\n";

describe('the api/ bundle is Edge code', () => {
  test("this repository's functions build for the Edge runtime, with no require shim", async () => {
    const code = await bundleFunctions(process.cwd());
    expect(code).not.toMatch(/__require|Dynamic require/);
  });

  test('a node: import fails the build', async () => {
    const root = await project({
      'api/hash.ts': `${EDGE}import { createHash } from 'node:crypto';\nexport default () => new Response(createHash('sha1').digest('hex'));\n`,
    });
    await expect(bundleFunctions(root)).rejects.toThrow(/do not build for the Edge runtime[\s\S]*node:crypto/);
  });

  test('Node globals do not exist at run time, and process.env is only what was injected', async () => {
    const root = await project({
      // Looked up on globalThis: esbuild folds a bare `typeof require` to "function" when bundling.
      'api/globals.ts': `${EDGE}const g = globalThis as Record<string, unknown>;
      export default () => Response.json({
        require: typeof g.require, Buffer: typeof g.Buffer, setImmediate: typeof g.setImmediate,
        env: process.env, version: (process as { version?: string }).version ?? null,
      });\n`,
    });
    const server = await startVercelDevServer({ root, port: 0, env: { ONLY: 'this' } });
    try {
      const body = await (await fetch(`${server.url}/api/globals`)).json();
      expect(body).toEqual({ require: 'undefined', Buffer: 'undefined', setImmediate: 'undefined', env: { ONLY: 'this' }, version: null });
    } finally {
      await server.close();
    }
  });

  test('a function without runtime "edge" is refused at start', async () => {
    const root = await project({ 'api/node.ts': 'export default () => new Response("hi");\n' });
    await expect(startVercelDevServer({ root, port: 0 })).rejects.toThrow(/runtime: 'edge'/);
  });

  test('a rewrite to a function that does not exist is refused at start', async () => {
    const root = await project({
      'api/a.ts': `${EDGE}export default () => new Response("a");\n`,
      'vercel.json': JSON.stringify({ rewrites: [{ source: '/b', destination: '/api/b' }] }),
    });
    await expect(startVercelDevServer({ root, port: 0 })).rejects.toThrow(/no api\/ function serves \/api\/b/);
  });

  test('a path nothing serves gets Vercel\'s NOT_FOUND; a function that throws, EDGE_FUNCTION_INVOCATION_FAILED', async () => {
    const root = await project({ 'api/boom.ts': `${EDGE}export default () => { throw new Error('boom'); };\n` });
    const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
    const server = await startVercelDevServer({ root, port: 0, console: quiet });
    try {
      const missing = await fetch(`${server.url}/nothing`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('x-vercel-error')).toBe('NOT_FOUND');
      const boom = await fetch(`${server.url}/api/boom`);
      expect(boom.status).toBe(500);
      expect(boom.headers.get('x-vercel-error')).toBe('EDGE_FUNCTION_INVOCATION_FAILED');
    } finally {
      await server.close();
    }
  });
});

describe("routing with this repository's vercel.json", () => {
  test('each path reaches the function Vercel would pick', async () => {
    const vercelJson = JSON.parse(await readFile('vercel.json', 'utf8'));
    const files = ['api/_shared/vercel-deps.ts', 'api/fallback.ts', 'api/health.ts', 'api/v1/chat/completions.ts', 'api/v1/models.ts', 'api/v1/models/[id].ts'];
    const router = createRouter(files, readRewrites(vercelJson));
    router.check();
    const served = (pathname: string) => router.resolve(pathname)?.fn.file;
    expect(served('/v1/chat/completions')).toBe('api/v1/chat/completions.ts');
    expect(served('/v1/models')).toBe('api/v1/models.ts');
    expect(served('/v1/models/qwen3-coder-plus')).toBe('api/v1/models/[id].ts');
    expect(served('/health')).toBe('api/health.ts');
    expect(served('/api/v1/models/x')).toBe('api/v1/models/[id].ts');
    expect(served('/api/health')).toBe('api/health.ts');
    // Everything else goes to the fallback, which runs the core (OpenAI-shaped 404, preflights).
    for (const other of ['/v1/embeddings', '/v1/models/a/b', '/v1/models/', '/', '/nowhere', '/api/_shared/vercel-deps']) {
      expect(served(other)).toBe('api/fallback.ts');
    }
  });
});

describe('the /api prefix is the Vercel entry\'s business', () => {
  test('withoutApiPrefix keeps method, headers and body, and leaves other paths alone', async () => {
    const post = withoutApiPrefix(new Request('http://h/api/v1/chat/completions?x=1', { method: 'POST', headers: { 'x-a': '1' }, body: '{"a":1}' }));
    expect([post.url, post.method, post.headers.get('x-a'), await post.text()]).toEqual(['http://h/v1/chat/completions?x=1', 'POST', '1', '{"a":1}']);
    expect(withoutApiPrefix(new Request('http://h/api')).url).toBe('http://h/');
    const plain = new Request('http://h/v1/models');
    expect(withoutApiPrefix(plain)).toBe(plain);
    expect(withoutApiPrefix(new Request('http://h/apis/x')).url).toBe('http://h/apis/x');
  });

  test('the core does not strip it (a Worker has no /api), the Vercel functions do, body and all', async () => {
    const deps = { ...createDeps({ env: {}, store: new MemoryStore(), logger: silentLogger }), waitUntil: () => {} };
    expect((await handle(new Request('http://h/api/health'), deps)).status).toBe(404);
    expect((await handle(new Request('http://h/health'), deps)).status).toBe(200);

    const fake = await startFakeQwen({ resourceUrlStyle: 'http' });
    const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
    const server = await startVercelDevServer({ port: 0, console: quiet, env: { QWEN_CLI_AUTH: JSON.stringify(fake.mintCredentials()), QWEN_OAUTH_BASE_URL: fake.oauthUrl } });
    try {
      expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
      const res = await fetch(`${server.url}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'coder-model', messages: [{ role: 'user', content: 'through /api' }] }),
      });
      expect(res.status).toBe(200);
      expect((await res.json()).choices[0].message.content).toContain('through /api');
    } finally {
      await server.close();
      await fake.close();
    }
  });
});

describe('.env.local syntax', () => {
  test('quotes, export, comments', () => {
    const text = [
      '# comment',
      "QWEN_CLI_AUTH='{\"access_token\":\"a\",\"refresh_token\":\"r # not a comment\"}'",
      'export LOG_LEVEL=debug # trailing comment',
      'QUOTED="line1\\nline2 \\"q\\""',
      'MULTI="a',
      'b"',
      'EMPTY=',
      'URL=http://x/#frag',
      '',
    ].join('\r\n');
    expect(parseDotenv(text)).toEqual({
      QWEN_CLI_AUTH: '{"access_token":"a","refresh_token":"r # not a comment"}',
      LOG_LEVEL: 'debug',
      QUOTED: 'line1\nline2 "q"',
      MULTI: 'a\nb',
      EMPTY: '',
      URL: 'http://x/#frag',
    });
  });
});
