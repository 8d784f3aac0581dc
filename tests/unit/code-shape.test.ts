import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

/** What keeps lib/ the runtime-neutral core and the host entries thin, checked on the sources. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : /\.(ts|mjs)$/.test(entry.name) ? [full] : [];
  });
const read = (file: string) => readFileSync(file, 'utf8');
/** process.env in code (comments may mention it). */
const usesProcessEnv = (text: string) => /^(?!\s*(\*|\/\/)).*\bprocess\.env\b/m.test(text);
const importsOf = (file: string) => [...read(file).matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

describe('the shape of the code', () => {
  test('lib/ imports no host: no node:, no @vercel/, no cloudflare:, no process.env, no /api', () => {
    for (const file of filesUnder('lib')) {
      for (const spec of importsOf(file)) expect([file, spec]).not.toEqual([file, expect.stringMatching(/^(node:|@vercel\/|cloudflare:)/)]);
      expect([file, usesProcessEnv(read(file))]).toEqual([file, false]);
    }
    expect(usesProcessEnv(read('vercel/create-vercel-deps.ts'))).toBe(true); // where it belongs
    expect(read('lib/handle.ts')).not.toMatch(/\\\/api|'\/api/);
    expect(existsSync('lib/vercel')).toBe(false);
    expect(existsSync('lib/config/edge-config-source.ts')).toBe(false);
    expect(existsSync('vercel/create-vercel-deps.ts') && existsSync('vercel/edge-config-source.ts')).toBe(true);
  });

  test('the Worker and its Durable Object share Env from its own file instead of importing each other', () => {
    expect(importsOf('cloudflare/qwen-accounts.ts')).not.toContain('./worker.ts');
    expect(importsOf('cloudflare/qwen-accounts.ts')).toContain('./env.ts');
    expect(importsOf('cloudflare/worker.ts')).toContain('./env.ts');
    expect(read('cloudflare/worker.ts')).not.toMatch(/interface Env\b/);
  });

  test('the Worker is typed by @cloudflare/workers-types, not by hand-written declarations', () => {
    expect(existsSync('cloudflare/cloudflare-workers.d.ts')).toBe(false);
    for (const file of filesUnder('cloudflare')) expect([file, read(file)]).not.toEqual([file, expect.stringContaining('declare module')]);
    const tsconfig = read('cloudflare/tsconfig.json');
    expect(tsconfig).toContain('"types": ["@cloudflare/workers-types"]');
    expect(JSON.parse(read('package.json')).scripts.typecheck).toContain('tsc --noEmit -p cloudflare');
  });

  test('qrcode-terminal is a devDependency, used by the login script only', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.dependencies).not.toHaveProperty('qrcode-terminal');
    expect(pkg.devDependencies).toHaveProperty('qrcode-terminal');
    for (const dir of ['lib', 'api', 'cloudflare', 'vercel']) {
      for (const file of filesUnder(dir)) expect([file, read(file).includes('qrcode-terminal')]).toEqual([file, false]);
    }
  });
});
