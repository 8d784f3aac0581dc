// Types for routing.mjs (tsconfig has no allowJs).
export interface FunctionRoute {
  file: string;
  path: string;
  pattern: RegExp;
  dynamic: boolean;
}
export interface Rewrite {
  source: string;
  destination: string;
  pattern: RegExp;
  keys: string[];
}
export function isFunctionFile(file: string): boolean;
export function functionRoute(file: string): FunctionRoute;
export function compileSource(source: string): { pattern: RegExp; keys: string[] };
export function readRewrites(vercelJson: unknown): Rewrite[];
export function createRouter(
  files: string[],
  rewrites: Rewrite[],
): {
  functions: FunctionRoute[];
  resolve(pathname: string): { fn: FunctionRoute; rewrite?: Rewrite } | undefined;
  check(): void;
};
