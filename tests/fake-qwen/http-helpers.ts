/** Small node:http plumbing shared by the OAuth and API servers of the fake. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenOnLoopback } from '../support/listen-on-loopback.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface LoopbackServer {
  url: string;
  /** "127.0.0.1:<port>" */
  host: string;
  /** Stops listening and destroys every open socket, so stalled streams cannot keep it alive. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, port 0 (a free one); close() drops stalled streams too. */
export async function startLoopbackServer(handler: Handler): Promise<LoopbackServer> {
  const server: Server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      // A bug in the fake itself: make it loud in the test that hit it, never a hang.
      const message = err instanceof Error ? err.stack ?? err.message : String(err);
      if (!res.headersSent) sendText(res, 500, 'text/plain', `fake-qwen internal error: ${message}`);
      else res.destroy();
    });
  });
  const listening = await listenOnLoopback(server);
  return { url: listening.url, host: `127.0.0.1:${listening.port}`, close: listening.close };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** Headers as a flat lower-case record (Node already lower-cases names; repeated ones are joined). */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, 'application/json', JSON.stringify(body), headers);
}

export function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const payload = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(payload.length), ...headers });
  res.end(payload);
}

/** An abrupt TCP reset (ECONNRESET at the client) where Node supports it, else a plain destroy. */
export function resetConnection(res: ServerResponse): void {
  const socket = res.socket as (Socket & { resetAndDestroy?: () => void }) | null;
  if (socket && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else res.destroy();
}
