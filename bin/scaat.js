#!/usr/bin/env node
// The scaat CLI entry: runs the compiled CLI from dist/ (built by `npm ci` through `prepare`),
// or the TypeScript sources through tsx when dist/ is absent (a development checkout). In a
// development checkout (src/ next to dist/), a source file changed after the last build is named
// on stderr: the command still runs the last build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
const sources = join(root, 'src');

/** The newest non-test .ts file under `dir` changed after `since` (ms), or null. */
function newerSource(dir, since) {
  let found = null;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const f = newerSource(p, since);
      if (f && (!found || f.mtimeMs > found.mtimeMs)) found = f;
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      const mtimeMs = statSync(p).mtimeMs;
      if (mtimeMs > since && (!found || mtimeMs > found.mtimeMs)) found = { path: p, mtimeMs };
    }
  }
  return found;
}

let mod;
if (existsSync(built) && !process.env.SCAAT_FROM_SOURCE) {
  if (existsSync(sources)) {
    const stale = newerSource(sources, statSync(built).mtimeMs);
    if (stale) {
      process.stderr.write(
        `scaat: warning: ${relative(root, stale.path)} changed after the last build (dist/), which runs as built. ` +
          '`npm run build` updates it; SCAAT_FROM_SOURCE=1 runs the sources.\n',
      );
    }
  }
  mod = await import(pathToFileURL(built).href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  mod = await tsImport(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href, import.meta.url);
}
const code = await mod.main(process.argv.slice(2));
process.exitCode = code;
