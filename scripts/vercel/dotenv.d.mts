// Types for dotenv.mjs (tsconfig has no allowJs).
export function parseDotenv(text: string): Record<string, string>;
