/**
 * Small helpers for messages about parsed JSON (zod issues name a path; the message says what
 * was found there).
 */

/** The value at `path` inside `root` (object keys and array indices), or undefined. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** A JSON-ish type name for messages: 'null', 'array', 'NaN'/'Infinity' for non-finite numbers, else typeof. */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v;
}
