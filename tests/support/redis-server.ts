import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface RedisServerHandle {
  /** redis://host:port of the server the tests should use. */
  url: string;
  stop(): Promise<void>;
}

/** Asks the OS for a free port by binding a throwaway server to port 0. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** One PING over a raw socket; resolves true only on +PONG. */
function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/**
 * Starts a throwaway redis-server (no persistence) on 127.0.0.1, or uses REDIS_URL when that is
 * set (CI or a developer may already run one). Ready when it answers PING.
 */
export async function startRedisServer(timeoutMs = 10_000, options: { port?: number; own?: boolean } = {}): Promise<RedisServerHandle> {
  const external = process.env.REDIS_URL;
  // not ours to stop (or to FLUSHALL); a test that stops and restarts Redis asks for its own (`own`)
  if (external && !options.own && options.port === undefined) return { url: external, stop: async () => {} };

  const host = '127.0.0.1';
  // A given port restarts a server a test stopped, so clients that knew its address find it again.
  const port = options.port ?? (await freePort(host));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited: string | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    exited =
      error.code === 'ENOENT'
        ? 'redis-server is not installed (apt-get install -y redis-server), or set REDIS_URL'
        : `redis-server failed to start: ${error.message}`;
  });
  child.once('exit', (code, signal) => {
    exited ??= `redis-server exited early (code ${code}, signal ${signal}): ${stderr.trim()}`;
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || exited) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 2_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(exited);
    if (await ping(host, port)) return { url: `redis://${host}:${port}`, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
