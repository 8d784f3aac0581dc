import { Miniflare } from 'miniflare';

/** A running gateway an e2e case talks to over real HTTP on 127.0.0.1. */
export interface GatewayTarget {
  name: string;
  /** e.g. http://127.0.0.1:PORT (the OpenAI base URL is this + /v1) */
  url: string;
  close(): Promise<void>;
}

export type StartTarget = (env: Record<string, string>) => Promise<GatewayTarget>;

/** The built Worker in workerd, through Miniflare's HTTP server (not `wrangler dev`, whose proxy adds its own hop). */
export const startCloudflare: StartTarget = async (env) => {
  const mf = new Miniflare({
    modules: true,
    scriptPath: 'dist/cloudflare/worker.js',
    compatibilityDate: '2026-04-20',
    kvNamespaces: ['QWEN_KV'],
    durableObjects: { QWEN_ACCOUNTS: { className: 'QwenAccounts', useSQLite: true }, QWEN_RESPONSES: { className: 'QwenResponses', useSQLite: true } },
    bindings: env,
    host: '127.0.0.1',
    port: 0,
    cf: false,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { name: 'cloudflare', url, close: () => mf.dispose() };
};
