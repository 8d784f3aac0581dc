import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, test } from 'vitest';
import { freePort } from '../support/redis-server.ts';

/**
 * `npm run dev` and `npm run dev:vercel`, started for real: stopping them (Ctrl-C is SIGINT, a
 * supervisor sends SIGTERM) must leave nothing running. `ps` is the judge.
 */
interface Proc {
  pid: number;
  ppid: number;
  stat: string;
  args: string;
}
const table = (): Proc[] =>
  execFileSync('ps', ['-eo', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), stat: m[3]!, args: m[4]! }));

/** Every process below `root`. */
function descendants(root: number): Proc[] {
  const all = table();
  const found: Proc[] = [];
  for (let frontier = [root]; frontier.length > 0; ) {
    const next = all.filter((p) => frontier.includes(p.ppid));
    found.push(...next);
    frontier = next.map((p) => p.pid);
  }
  return found;
}
/** Those of `pids` still running (a zombie has exited; this machine's init is slow to reap them). */
const running = (pids: number[]) => {
  const pidSet = new Set(pids);
  return table().filter((p) => pidSet.has(p.pid) && !p.stat.startsWith('Z'));
};

// Every process a test saw, killed after it whatever happened: a failed test must not leave its
// server behind either (once the script is gone, its orphans are no longer below it).
const seen = new Set<number>();
const treeOf = (child: ChildProcess): Proc[] => {
  const tree = descendants(child.pid!);
  for (const p of [child.pid!, ...tree.map((d) => d.pid)]) seen.add(p);
  return tree;
};
afterEach(() => {
  for (const p of running([...seen])) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
  seen.clear();
});

/** Starts `node <script>` and resolves once its output matches `ready`. */
function start(script: string, env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  seen.add(child.pid!);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!ready.test(output)) return;
      treeOf(child); // remembered for the clean-up from here on
      resolve({ child, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready:\n${output}`)));
  });
}
const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

describe('dev servers stop everything they started', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)('npm run dev (wrangler, workerd) on %s', async (signal) => {
    const port = await freePort();
    const { child } = await start('scripts/dev-cloudflare.mjs', { PORT: String(port) }, /Ready on http/);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const tree = treeOf(child);
    expect(tree.map((p) => p.args).join('\n')).toMatch(/workerd/);
    process.kill(child.pid!, signal);
    expect(await exited(child)).toBe(0);
    expect(running(tree.map((p) => p.pid))).toEqual([]);
  }, 90_000);

  test('npm run dev:vercel on SIGTERM', async () => {
    const port = await freePort();
    const { child } = await start('scripts/dev-vercel.mjs', { PORT: String(port) }, /ready on http/);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const tree = treeOf(child);
    process.kill(child.pid!, 'SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(running([child.pid!, ...tree.map((p) => p.pid)])).toEqual([]);
  }, 60_000);
});
