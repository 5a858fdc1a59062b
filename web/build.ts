/**
 * Builds the browser page into a static folder (default web/dist): index.html, app.js (the page
 * with TF.js and scaat's saliency code bundled by esbuild) and the TF.js wasm binaries.
 *
 *   npx tsx web/build.ts [outDir]
 *
 * Serve the folder over http (e.g. `npx tsx web/serve.ts`); opening index.html from disk also
 * works with the cpu/webgl backends and picked files.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Options of {@link buildWeb}. */
export interface BuildWebOptions {
  /** Output folder. @default web/dist */
  readonly outDir?: string;
  /** Minify app.js. @default true */
  readonly minify?: boolean;
}

/** Bundles the page; returns the output folder. */
export async function buildWeb({ outDir = path.join(here, 'dist'), minify = true }: BuildWebOptions = {}): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(here, 'src', 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: false,
    outfile: path.join(outDir, 'app.js'),
    logLevel: 'warning',
    legalComments: 'none',
  });
  copyFileSync(path.join(here, 'index.html'), path.join(outDir, 'index.html'));
  const require = createRequire(import.meta.url);
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    copyFileSync(path.join(wasmDir, f), path.join(outDir, f));
  }
  return outDir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildWeb(process.argv[2] ? { outDir: path.resolve(process.argv[2]) } : {});
  console.log(`built the browser page in ${out}`);
}
