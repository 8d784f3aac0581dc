import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { listenOnLoopback } from './listen-on-loopback.ts';
import { Redis as IORedis } from 'ioredis';

export interface UpstashRestServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

type Command = Array<string | number | boolean>;
type Answer = { result: unknown } | { error: string };

/**
 * Upstash's REST protocol in front of a real Redis, so tests exercise the real @upstash/redis client
 * (request shapes, base64 replies, error mapping) against real Redis semantics (NX, PX, EVAL).
 */
export async function startUpstashRestServer(redisUrl: string): Promise<UpstashRestServer> {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
  // While Redis is down (fault tests stop it) each command answers its own error; the connection's
  // reconnect attempts need no listener of their own.
  redis.on('error', () => {});
  const token = randomUUID();

  // callBuffer keeps replies as bytes, so what we base64-encode is exactly what Redis stored.
  const encode = (reply: unknown, base64: boolean): unknown => {
    if (Buffer.isBuffer(reply)) return base64 ? reply.toString('base64') : reply.toString('utf8');
    if (typeof reply === 'string') return base64 ? Buffer.from(reply, 'utf8').toString('base64') : reply;
    if (Array.isArray(reply)) return reply.map((item) => encode(item, base64));
    return reply;
  };
  const isCommand = (value: unknown): value is Command =>
    Array.isArray(value) && value.length > 0 && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v));
  // ioredis applies reply transformers to some lower-case names (hgetall); upper-case avoids them.
  const argsOf = (command: Command): [string, string[]] => [String(command[0]).toUpperCase(), command.slice(1).map(String)];
  const run = async (command: Command): Promise<Answer> => {
    try {
      const [name, args] = argsOf(command);
      return { result: await redis.callBuffer(name, args) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };
  const runTransaction = async (commands: Command[]): Promise<Answer[] | Answer> => {
    const multi = redis.multi();
    for (const command of commands) multi.callBuffer(...argsOf(command));
    try {
      const replies = (await multi.exec()) ?? [];
      return replies.map(([error, result]) => (error ? { error: error.message } : { result }));
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };

  const server = http.createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { error: 'Unauthorized' });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(400, { error: 'ERR failed to parse command' });
    }
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    const encodeAnswer = (answer: Answer): Answer => ('result' in answer ? { result: encode(answer.result, base64) } : answer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;

    if (req.method !== 'POST') return reply(405, { error: 'ERR only POST is supported here' });
    if (path === '/') {
      if (!isCommand(body)) return reply(400, { error: 'ERR command must be a non-empty array' });
      const answer = await run(body);
      return reply('error' in answer ? 400 : 200, encodeAnswer(answer));
    }
    if (path === '/pipeline' || path === '/multi-exec') {
      if (!Array.isArray(body) || !body.every(isCommand)) return reply(400, { error: 'ERR body must be an array of commands' });
      const answers = path === '/pipeline' ? await Promise.all(body.map(run)) : await runTransaction(body);
      if (!Array.isArray(answers)) return reply(400, answers);
      return reply(200, answers.map(encodeAnswer));
    }
    return reply(404, { error: `ERR unknown path ${path}` });
  });

  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    token,
    close: async () => {
      await listening.close();
      await redis.quit();
    },
  };
}
