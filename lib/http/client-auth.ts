import { GatewayError } from '../errors.ts';

/**
 * Checks the client's key against OPENAI_API_KEY (one or several). Accepted as
 * `Authorization: Bearer <key>` (OpenAI SDKs) or `x-api-key: <key>` (Anthropic-style clients).
 * Every configured key is compared, in constant time, so timing reveals neither a key nor which one.
 */
export async function authenticateClient(request: Request, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const presented = presentedKey(request);
  if (!presented) {
    throw new GatewayError({
      status: 401,
      code: 'missing_api_key',
      message: "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' (or 'x-api-key: <key>').",
    });
  }
  // A key that matched once skips the digests (they were a measurable part of every request).
  // A Set lookup hashes the whole string and compares contents only on a hash hit, so a wrong
  // key learns nothing from its timing. The set belongs to this list of keys: when the keys change
  // (a deploy, an Edge Config update), so does the list, and nothing verified before counts.
  let verified = verifiedFor.get(keys);
  if (verified?.has(presented)) return;
  const digest = await sha256(presented);
  let match = false;
  for (const key of keys) match = constantTimeEqual(digest, await configuredDigest(key)) || match;
  if (match) {
    if (!verified) verifiedFor.set(keys, (verified = new Set()));
    verified.add(presented);
  }
  if (!match) {
    throw new GatewayError({ status: 401, code: 'invalid_api_key', message: 'Incorrect API key provided.' });
  }
}

function presentedKey(request: Request): string | undefined {
  const authorization = request.headers.get('authorization')?.trim();
  const bearer = authorization && authorization.slice(0, 7).toLowerCase() === 'bearer ' ? authorization.slice(7).trim() : undefined;
  return bearer || request.headers.get('x-api-key')?.trim() || undefined;
}

/**
 * Digests of the configured keys, computed once per isolate rather than on every request (the
 * keys change only with a deploy or an Edge Config update, which simply adds entries).
 */
const configuredDigests = new Map<string, Promise<Uint8Array>>();
const verifiedFor = new WeakMap<readonly string[], Set<string>>();

function configuredDigest(key: string): Promise<Uint8Array> {
  let digest = configuredDigests.get(key);
  if (!digest) {
    digest = sha256(key);
    configuredDigests.set(key, digest);
  }
  return digest;
}

/** Hashing first gives both sides the same length, so the comparison below is length-independent. */
async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
