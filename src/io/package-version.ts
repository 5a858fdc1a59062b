/**
 * The scaat package version (from package.json, found relative to this file in src/ and dist/):
 * the one reader of it, for the CLI and the metrics' provenance alike.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined | null = null;

/** e.g. '0.1.0'; undefined if package.json cannot be read. */
export function scaatVersion(): string | undefined {
  if (cached !== null) return cached;
  try {
    // src/io/package-version.ts and dist/io/package-version.js are both two levels below the root.
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    cached = undefined;
  }
  return cached;
}
