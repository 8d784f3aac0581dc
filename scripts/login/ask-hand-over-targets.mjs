// @ts-check
import { createInterface } from 'node:readline/promises';

/**
 * After an interactive login without --to, offers the hand-over instead of only describing it.
 * Several letters pick several targets ("dc"); Enter skips.
 * @param {AbortSignal} signal
 * @returns {Promise<import('./hand-over.mjs').HandOverTarget[]>}
 */
export async function askHandOverTargets(signal) {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // readline takes over Ctrl-C while it reads; pass it on so the CLI stops as everywhere else.
  rl.on('SIGINT', () => process.emit('SIGINT'));
  try {
    const answer = await rl.question(
      'Put them where the gateway reads them now?\n' +
        '  [d] .dev.vars + .env.local   [c] Cloudflare secret   [v] Vercel commands   [Enter] no: ',
      { signal },
    );
    /** @type {import('./hand-over.mjs').HandOverTarget[]} */
    const targets = [];
    const letters = answer.trim().toLowerCase();
    if (letters.includes('d')) targets.push('dev-vars');
    if (letters.includes('c')) targets.push('cloudflare');
    if (letters.includes('v')) targets.push('vercel');
    return targets;
  } finally {
    rl.close();
  }
}
