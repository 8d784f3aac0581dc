// @ts-check
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `content` to `file` so that readers (Qwen Code, the gateway's dev server, wrangler) see
 * either the old file or the new one, never half of it: a temp file in the same directory, then
 * rename. The file is 0600 from its creation on, so the tokens are never readable by others, not
 * even for a moment. Missing directories are created 0700; `privateDir` also tightens an existing
 * directory that only holds our secrets (~/.qwen), but never a directory the user merely chose.
 * @param {string} file
 * @param {string} content
 * @param {{ privateDir?: boolean }} [options]
 */
export async function writeFileAtomic(file, content, options = {}) {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (options.privateDir) await fs.chmod(dir, 0o700);

  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', 0o600);
  try {
    try {
      // The mode given to open is reduced by the umask, never widened; chmod states it exactly.
      await handle.chmod(0o600);
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
