// @ts-check
// The real coding-agent CLIs are installed on demand into a per-user cache, never as dependencies of
// the project: they are hundreds of megabytes each, and only the client suite and the capture script
// run them.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** @type {Record<'claude' | 'codex', { package: string, version: string, bin: string }>} */
export const clientPins = JSON.parse(readFileSync(new URL('./client-pins.json', import.meta.url), 'utf8'));

/** `$XDG_CACHE_HOME/qwen-edge-gateway/clients` (else `~/.cache/...`), or QWEN_GATEWAY_CLIENTS_DIR. */
export function clientsCacheDir() {
  if (process.env.QWEN_GATEWAY_CLIENTS_DIR) return process.env.QWEN_GATEWAY_CLIENTS_DIR;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'qwen-edge-gateway', 'clients');
}

/**
 * The path of the pinned client's executable, installing it first if this version is not cached.
 * The install goes to a temporary folder renamed into place when complete, so a killed install is
 * never mistaken for a finished one and two test workers can race without harm.
 * @param {'claude' | 'codex'} name
 * @returns {Promise<string>}
 */
export async function ensureClient(name) {
  const pin = clientPins[name];
  const dir = path.join(clientsCacheDir(), `${pin.package.replace('/', '__')}@${pin.version}`);
  const bin = path.join(dir, 'node_modules', '.bin', pin.bin);
  if (existsSync(bin)) return bin;
  const tmp = `${dir}.installing-${process.pid}`;
  await mkdir(tmp, { recursive: true });
  try {
    await promisify(execFile)(
      'npm',
      ['install', '--prefix', tmp, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `${pin.package}@${pin.version}`],
      { maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60_000 },
    );
    await rename(tmp, dir).catch((error) => {
      // Another worker finished first: its copy is as good as ours.
      if (!existsSync(bin)) throw error;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  if (!existsSync(bin)) throw new Error(`${pin.package}@${pin.version} installed without ${pin.bin}`);
  return bin;
}
