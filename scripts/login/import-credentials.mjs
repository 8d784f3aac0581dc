// @ts-check
import { readCredentialsFile, writeCredentialsFile } from './credentials-file.mjs';
import { isExpired, refreshCredentials } from './refresh-credentials.mjs';

/**
 * `--import`: takes an existing login (Qwen Code's file by default) instead of signing in. An
 * expired one is refreshed first and written back at once: the refresh used up the old refresh
 * token, so the file would otherwise hold a dead login.
 * @param {object} options
 * @param {string} options.file
 * @param {boolean} options.privateDir
 * @param {string} options.oauthBaseUrl
 * @param {(line?: string) => void} options.print
 * @param {AbortSignal} options.signal
 */
export async function importCredentials({ file, privateDir, oauthBaseUrl, print, signal }) {
  const saved = await readCredentialsFile(file);
  if (!isExpired(saved)) {
    print(`Using the credentials in ${file}.`);
    return saved;
  }
  print(`The access token in ${file} has expired; refreshing it...`);
  const fresh = await refreshCredentials(oauthBaseUrl, saved, signal);
  await writeCredentialsFile(file, fresh, { privateDir });
  print(`✔ Refreshed, and saved to ${file}.`);
  return fresh;
}
