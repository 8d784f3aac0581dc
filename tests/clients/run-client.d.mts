// Types for run-client.mjs, so the TypeScript suite can import it (tsconfig has no allowJs).
export interface ClientRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runClaude(options: {
  bin: string;
  /** Anthropic base URL: the gateway's origin, without /v1. */
  baseUrl: string;
  apiKey: string;
  prompt: string;
  allowBash?: boolean;
  model?: string;
  /** Default true: no telemetry, update checks or reachability probe (CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC). */
  quiet?: boolean;
  timeoutMs?: number;
}): Promise<ClientRun>;

export function runCodex(options: {
  bin: string;
  /** Responses base URL, ending in /v1. */
  baseUrl: string;
  apiKey: string;
  prompt: string;
  runCommands?: boolean;
  model?: string;
  retries?: number;
  /** Default true: no update check, analytics or plugin sync. */
  quiet?: boolean;
  timeoutMs?: number;
}): Promise<ClientRun>;
