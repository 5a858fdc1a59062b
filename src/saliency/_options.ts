/**
 * Validation of plain option objects (from config files and the CLI) against a zod schema, with
 * errors that name the component, the key, what was expected and what was found.
 */
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/** Parses `value` with `schema` or throws a ConfigError naming `where` and each bad key. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const key = i.path.length > 0 ? i.path.join('.') : '(options)';
    return `${key}: ${i.message}`;
  });
  throw new ConfigError(`${where}: invalid options: ${problems.join('; ')}`);
}

/** Drops keys whose value is undefined (for exactOptionalPropertyTypes). */
export function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
