// Types for install-client.mjs, so the TypeScript suite can import it (tsconfig has no allowJs).
export type ClientName = 'claude' | 'codex';

export const clientPins: Record<ClientName, { package: string; version: string; bin: string }>;

export function clientsCacheDir(): string;

export function ensureClient(name: ClientName): Promise<string>;
