/**
 * What ships: the Worker as `wrangler deploy --dry-run` bundles it, and each Vercel function as
 * Vercel bundles an Edge Function (one bundle per function, for the edge: esbuild, platform browser,
 * the edge-light condition first, as scripts/vercel/dev-server.mjs does for the whole api/ folder).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, transform, type BuildOptions } from 'esbuild';

export interface Size {
  name: string;
  raw: number;
  gzip: number;
  /** Minified and gzipped (Vercel minifies Edge Functions; wrangler does not unless told to). */
  minGzip: number;
}

export interface WorkerBuild {
  scriptPath: string;
  size: Size;
  /** wrangler's own "Total Upload: … / gzip: …" line. */
  wranglerSays: string | undefined;
  seconds: number;
}

const gz = (bytes: Uint8Array | string) => gzipSync(bytes, { level: 9 }).byteLength;

export async function buildWorker(root: string, outdir: string): Promise<WorkerBuild> {
  const started = performance.now();
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      'npx',
      ['wrangler', 'deploy', '--dry-run', '--outdir', outdir],
      { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', FORCE_COLOR: '0' } },
      (error, stdout, stderr) => (error ? reject(new Error(`wrangler deploy --dry-run failed:\n${stderr || stdout}`)) : resolve(stdout + stderr)),
    );
  });
  const seconds = (performance.now() - started) / 1000;
  const scriptPath = path.join(outdir, 'worker.js');
  const code = await readFile(scriptPath);
  const minified = await transform(code.toString('utf8'), { minify: true, format: 'esm', loader: 'js', logLevel: 'silent' });
  return {
    scriptPath,
    size: { name: 'worker.js', raw: code.byteLength, gzip: gz(code), minGzip: gz(minified.code) },
    wranglerSays: /Total Upload:[^\n]*/.exec(output)?.[0]?.trim(),
    seconds,
  };
}

async function listTs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return listTs(full);
      return Promise.resolve(entry.isFile() && /\.(ts|js|mjs)$/.test(entry.name) ? [full] : []);
    }),
  );
  return nested.flat().sort();
}

/** Every Vercel function: files under api/ not in (or named with) a leading underscore. */
export async function vercelFunctionSizes(root: string): Promise<Size[]> {
  const files = (await listTs(path.join(root, 'api'))).filter((file) =>
    path.relative(path.join(root, 'api'), file).split(path.sep).every((part) => !part.startsWith('_')),
  );
  const sizes: Size[] = [];
  for (const file of files) {
    const options: BuildOptions & { write: false } = {
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['edge-light', 'worker', 'browser'],
      target: 'es2022',
      logLevel: 'silent',
    };
    const [plain, minified] = await Promise.all([build(options), build({ ...options, minify: true })]);
    const code = plain.outputFiles[0]!.contents;
    sizes.push({
      name: path.relative(root, file).split(path.sep).join('/'),
      raw: code.byteLength,
      gzip: gz(code),
      minGzip: gz(minified.outputFiles[0]!.contents),
    });
  }
  return sizes;
}

export async function fileExists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
