// Types for dev-server.mjs, so the TypeScript e2e target can import it (tsconfig has no allowJs).
export interface VercelDevServerOptions {
  /** What the functions see as process.env; nothing else is added. */
  env?: Record<string, string | undefined>;
  /** 0 picks a free port; default 3000. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The project (where api/ and vercel.json are); default this repository. */
  root?: string;
  /** Receives the functions' console output (their log lines); default the runtime's own console. */
  console?: Pick<Console, 'log' | 'info' | 'warn' | 'error' | 'debug'>;
}

export interface VercelDevServer {
  /** e.g. http://127.0.0.1:3000 (the OpenAI base URL is this + /v1) */
  url: string;
  close(): Promise<void>;
}

export function startVercelDevServer(options?: VercelDevServerOptions): Promise<VercelDevServer>;

/** The api/ functions and their router as one classic script for the Edge runtime. */
export function bundleFunctions(root: string): Promise<string>;
