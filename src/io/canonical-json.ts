/**
 * canonicalJson: JSON with every object's keys sorted, so two values that differ only in key order
 * compare equal as strings (configs read back from disk against configs built in memory).
 */

/** `JSON.stringify` with object keys sorted at every depth (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
