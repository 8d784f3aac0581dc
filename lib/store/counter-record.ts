/**
 * Counter records as JSON text, for the backends that keep them as one value (memory, KV, Durable
 * Object storage). Built without a prototype: field names come from callers and may be anything.
 */
export function parseCounters(raw: string | null | undefined): Record<string, number> {
  const out: Record<string, number> = Object.create(null);
  if (!raw) return out;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return out;
    for (const [name, value] of Object.entries(parsed)) if (typeof value === 'number' && Number.isFinite(value)) out[name] = value;
  } catch {
    // An unreadable record counts from zero again rather than failing every increment.
  }
  return out;
}

export function addCounters(current: Record<string, number>, deltas: Record<string, number>): Record<string, number> {
  const next: Record<string, number> = Object.assign(Object.create(null), current);
  for (const [name, delta] of Object.entries(deltas)) {
    if (!Number.isSafeInteger(delta)) throw new RangeError(`counter delta for ${name} must be a safe integer, got ${delta}`);
    next[name] = (next[name] ?? 0) + delta;
  }
  return next;
}

/** Plain object for callers (a prototype-less one prints oddly and fails toEqual in tests). */
export function plainCounters(record: Record<string, number>): Record<string, number> {
  return { ...record };
}
