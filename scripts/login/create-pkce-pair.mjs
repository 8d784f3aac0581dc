// @ts-check
import { createHash, randomBytes } from 'node:crypto';

/**
 * PKCE (RFC 7636, S256) as Qwen Code does it: 32 random bytes as base64url (43 characters), and
 * the challenge is base64url(sha256(verifier)) without padding. The verifier never leaves this
 * process until the token request, so a stolen device code alone cannot be redeemed.
 */
export function createPkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge, method: /** @type {const} */ ('S256') };
}
