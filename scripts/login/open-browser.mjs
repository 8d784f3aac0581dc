// @ts-check
import { spawn } from 'node:child_process';

/**
 * Opens `url` in the default browser, best effort: a failure only means the user opens it from
 * the printed link. Returns whether an opener was started.
 * @param {string} url
 * @param {NodeJS.ProcessEnv} env
 */
export function openBrowser(url, env) {
  /** @type {[string, string[]] | undefined} */
  let command;
  if (process.platform === 'darwin') command = ['open', [url]];
  else if (process.platform === 'win32') command = ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]];
  // On Linux without a display (ssh, containers) xdg-open would start a text browser in this terminal.
  else if (env.DISPLAY || env.WAYLAND_DISPLAY) command = ['xdg-open', [url]];
  if (!command) return false;
  try {
    const child = spawn(command[0], command[1], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
