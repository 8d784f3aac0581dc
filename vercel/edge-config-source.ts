import { createClient } from '@vercel/edge-config';

/** Reads overrides from Vercel Edge Config (items such as apiKeys, models, defaultModel, modelAliases). */
export interface EdgeConfigSource {
  /** The items among `keys` that exist; absent ones are left out. Rejects with a readable Error. */
  getAll(keys: string[]): Promise<Record<string, unknown>>;
}

/**
 * Undefined when no connection string is configured (Edge Config is optional).
 *
 * A malformed connection string does not throw here: every failure, parse or network, surfaces from
 * getAll as one kind of Error, so the caller has a single place to decide whether to fail the request
 * or fall back to env config. Messages never include the connection string, which carries the token.
 */
export function createEdgeConfigSource(connectionString: string | undefined): EdgeConfigSource | undefined {
  const trimmed = connectionString?.trim();
  if (!trimmed) return undefined;

  let client: ReturnType<typeof createClient> | undefined;
  let setupError: unknown;
  try {
    client = createClient(trimmed);
  } catch (error) {
    setupError = error;
  }

  return {
    async getAll(keys: string[]): Promise<Record<string, unknown>> {
      try {
        if (!client) throw setupError;
        if (keys.length === 0) return {};
        return (await client.getAll(keys)) as Record<string, unknown>;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`Edge Config read failed (keys: ${keys.join(', ')}): ${reason}`, { cause: error });
      }
    },
  };
}
