import { createHash } from 'node:crypto';
import http from 'node:http';
import { listenOnLoopback } from './listen-on-loopback.ts';

export interface FakeEdgeConfigServer {
  /** What EDGE_CONFIG would hold: http://127.0.0.1:PORT/ecfg_test?token=t */
  connectionString: string;
  /** Replaces every item; the digest (and so the ETag) changes with the content. */
  setItems(items: Record<string, unknown>): void;
  /** Requests answered, as "METHOD path?query STATUS", so tests can see the 304s the client relies on. */
  requests: string[];
  close(): Promise<void>;
}

const CONFIG_ID = 'ecfg_test';
const TOKEN = 't';

/**
 * The read side of Edge Config's HTTP API as @vercel/edge-config 1.5 calls it. Answers with an ETag
 * so the client's If-None-Match / 304 path runs too, as it does against the real service.
 */
export async function startFakeEdgeConfigServer(initial: Record<string, unknown> = {}): Promise<FakeEdgeConfigServer> {
  let items: Record<string, unknown> = {};
  let digest = '';
  const setItems = (next: Record<string, unknown>) => {
    items = structuredClone(next);
    digest = createHash('sha256').update(JSON.stringify(items)).digest('hex').slice(0, 16);
  };
  setItems(initial);
  const requests: string[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      requests.push(`${req.method} ${url.pathname}${url.search} ${status}`);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: { code: 'unauthorized' } });

    const prefix = `/${CONFIG_ID}/`;
    // A 404 without the digest header is how the real service says "no such Edge Config".
    if (!url.pathname.startsWith(prefix)) return send(404, { error: { code: 'edge_config_not_found' } });
    const route = url.pathname.slice(prefix.length);
    const found = { 'x-edge-config-digest': digest, etag: `"${digest}"` };
    const fresh = () => req.headers['if-none-match'] === `"${digest}"`;

    if (route.startsWith('item/') && (req.method === 'GET' || req.method === 'HEAD')) {
      const key = decodeURIComponent(route.slice('item/'.length));
      if (!Object.hasOwn(items, key)) return send(404, { error: { code: 'item_not_found' } }, { 'x-edge-config-digest': digest });
      if (fresh()) return send(304, undefined, found);
      return send(200, items[key], found);
    }
    if (route === 'items' && req.method === 'GET') {
      if (fresh()) return send(304, undefined, found);
      const keys = url.searchParams.getAll('key');
      const picked = keys.length === 0 ? items : Object.fromEntries(keys.filter((k) => Object.hasOwn(items, k)).map((k) => [k, items[k]]));
      return send(200, picked, found);
    }
    if (route === 'digest' && req.method === 'GET') return send(200, digest, found);
    return send(404, { error: { code: 'not_found' } });
  });

  const listening = await listenOnLoopback(server);
  return {
    connectionString: `${listening.url}/${CONFIG_ID}?token=${TOKEN}`,
    setItems,
    requests,
    close: listening.close,
  };
}
