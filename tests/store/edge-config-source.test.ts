import { createClient } from '@vercel/edge-config';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEdgeConfigSource } from '../../vercel/edge-config-source.ts';
import { startFakeEdgeConfigServer, type FakeEdgeConfigServer } from '../support/edge-config-server.ts';

// The client keeps a stale-while-revalidate cache in development; tests must see every change.
process.env.EDGE_CONFIG_DISABLE_DEVELOPMENT_SWR = '1';

const KEYS = ['apiKeys', 'models', 'defaultModel', 'modelAliases'];
const ITEMS = {
  apiKeys: ['sk-a', 'sk-b'],
  models: ['qwen3-coder-plus', 'qwen3-coder-flash'],
  defaultModel: 'qwen3-coder-plus',
  modelAliases: { 'gpt-4o': 'qwen3-coder-plus' },
  unrelated: 'not asked for',
};

let server: FakeEdgeConfigServer;

beforeAll(async () => {
  server = await startFakeEdgeConfigServer(ITEMS);
});
beforeEach(() => {
  server.setItems(ITEMS);
});
afterAll(async () => {
  await server?.close();
});

describe('createEdgeConfigSource', () => {
  it('is undefined when no connection string is set', () => {
    expect(createEdgeConfigSource(undefined)).toBeUndefined();
    expect(createEdgeConfigSource('')).toBeUndefined();
    expect(createEdgeConfigSource('  ')).toBeUndefined();
  });

  it('reads only the requested items', async () => {
    const source = createEdgeConfigSource(server.connectionString)!;
    const { unrelated: _unrelated, ...expected } = ITEMS;
    expect(await source.getAll(KEYS)).toEqual(expected);
  });

  it('leaves absent items out', async () => {
    server.setItems({ defaultModel: 'qwen3-coder-flash', apiKeys: 'sk-a, sk-b' });
    const source = createEdgeConfigSource(server.connectionString)!;
    expect(await source.getAll(KEYS)).toEqual({ defaultModel: 'qwen3-coder-flash', apiKeys: 'sk-a, sk-b' });
  });

  it('sees items changed at runtime (no stale cache)', async () => {
    const source = createEdgeConfigSource(server.connectionString)!;
    expect((await source.getAll(['defaultModel'])).defaultModel).toBe('qwen3-coder-plus');
    expect((await source.getAll(['defaultModel'])).defaultModel).toBe('qwen3-coder-plus');
    server.setItems({ ...ITEMS, defaultModel: 'qwen3-coder-flash' });
    expect((await source.getAll(['defaultModel'])).defaultModel).toBe('qwen3-coder-flash');
  });

  it('returns {} for no keys without a request', async () => {
    const before = server.requests.length;
    expect(await createEdgeConfigSource(server.connectionString)!.getAll([])).toEqual({});
    expect(server.requests.length).toBe(before);
  });

  it('reports a wrong token as a clear Error that does not leak the token', async () => {
    const source = createEdgeConfigSource(server.connectionString.replace('token=t', 'token=secret-wrong'))!;
    const error = await source.getAll(KEYS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^Edge Config read failed \(keys: apiKeys, models, defaultModel, modelAliases\): .*Unauthorized/);
    expect((error as Error).message).not.toContain('secret-wrong');
  });

  it('reports an unknown Edge Config id', async () => {
    const source = createEdgeConfigSource(server.connectionString.replace('ecfg_test', 'ecfg_other'))!;
    await expect(source.getAll(KEYS)).rejects.toThrow(/Edge Config read failed.*not found/i);
  });

  it('reports a malformed connection string from getAll, not at creation', async () => {
    const source = createEdgeConfigSource('not a connection string');
    expect(source).toBeDefined();
    await expect(source!.getAll(KEYS)).rejects.toThrow(/Edge Config read failed.*connection string/i);
  });

  it('reports an unreachable server', async () => {
    const dead = await startFakeEdgeConfigServer();
    const connectionString = dead.connectionString;
    await dead.close();
    await expect(createEdgeConfigSource(connectionString)!.getAll(KEYS)).rejects.toThrow(/Edge Config read failed/);
  });
});

describe('fake Edge Config server, through the real client', () => {
  it('answers get, has, getAll and digest the way the client expects', async () => {
    const client = createClient(server.connectionString);
    expect(await client.get('defaultModel')).toBe('qwen3-coder-plus');
    expect(await client.get('nope')).toBeUndefined();
    expect(await client.has('models')).toBe(true);
    expect(await client.has('nope')).toBe(false);
    expect(await client.getAll()).toEqual(ITEMS);
    const digest = await client.digest();
    expect(digest).toMatch(/^[0-9a-f]{16}$/);
    server.setItems({ a: 1 });
    expect(await client.digest()).not.toBe(digest);
  });

  it('serves repeated reads with 304 Not Modified while the digest is unchanged', async () => {
    const client = createClient(server.connectionString);
    await client.get('models');
    const before = server.requests.length;
    expect(await client.get('models')).toEqual(ITEMS.models);
    expect(server.requests.slice(before)).toEqual(['GET /ecfg_test/item/models?version=1 304']);
    server.setItems({ ...ITEMS, models: ['only-one'] });
    expect(await client.get('models')).toEqual(['only-one']);
  });
});
