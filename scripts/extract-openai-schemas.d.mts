export const ROOTS: string[];
export function extractSchemas(
  spec: { info: Record<string, unknown>; components: { schemas: Record<string, unknown> } },
  roots: string[],
): { info: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
