#!/usr/bin/env node
// The scaat CLI entry: runs the compiled CLI from dist/ (built by `npm ci` through `prepare`),
// or the TypeScript sources through tsx when dist/ is absent (a development checkout).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
let mod;
if (existsSync(built) && !process.env.SCAAT_FROM_SOURCE) {
  mod = await import(pathToFileURL(built).href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  mod = await tsImport(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href, import.meta.url);
}
const code = await mod.main(process.argv.slice(2));
process.exitCode = code;
