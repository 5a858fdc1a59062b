#!/usr/bin/env node
// Builds scaat's optional native accelerator (native/, an N-API addon over oneDNN) with node-gyp.
//
//   node scripts/build-native.mjs            # npm's install step: never fails, warns once on failure
//   node scripts/build-native.mjs --strict   # CI: exit 1 when the addon cannot be built
//
// Skipped when SCAAT_NATIVE=0. Needs a C++17 compiler, Python 3 (node-gyp) and oneDNN headers
// and library (Debian/Ubuntu: apt-get install libdnnl-dev; elsewhere set DNNL_ROOT to its prefix).
// Node's own headers are used when they are installed next to the node binary (no download).
// Plain JavaScript on purpose: it runs during `npm ci`, before any TypeScript tooling.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const addon = path.join(nativeDir, 'build', 'Release', 'scaat_native.node');

function done(ok, message) {
  if (ok) {
    console.log(`scaat native: ${message}`);
    process.exit(0);
  }
  console.warn(`scaat native: ${message}; scaat will run on pure wasm (slower, same results).`);
  process.exit(strict ? 1 : 0);
}

const flag = (process.env.SCAAT_NATIVE ?? '').toLowerCase();
if (['0', 'false', 'off', 'no'].includes(flag)) done(true, 'build skipped (SCAAT_NATIVE=0)');
if (!existsSync(path.join(nativeDir, 'binding.gyp'))) done(false, `no ${path.join(nativeDir, 'binding.gyp')}`);

// node-gyp ships inside npm; prefer that copy (no network, no extra dependency).
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const npmCli = process.env.npm_execpath;
  if (npmCli) candidates.push(path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package: fine
  }
  return candidates.find((c) => existsSync(c));
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) done(false, 'node-gyp not found (it ships with npm)');

const args = [nodeGyp, 'rebuild', `--directory=${nativeDir}`, `--jobs=max`];
// Local headers (Debian's nodejs, official tarballs) avoid node-gyp downloading them.
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const t0 = Date.now();
const res = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8', env: process.env });
if (res.status !== 0 || !existsSync(addon)) {
  const log = `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
  const firstError = log.split('\n').find((l) => /error|not found|No such file/i.test(l) && !/^gyp (info|http)/.test(l));
  rmSync(path.join(nativeDir, 'build'), { recursive: true, force: true });
  if (strict) process.stderr.write(log);
  done(false, `build failed${firstError ? `: ${firstError.trim()}` : ` (node-gyp exit ${res.status})`}`);
}

// Loading proves the library resolves at run time too (a missing libdnnl.so fails here, not later).
const check = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(addon)}).info().library)`], {
  encoding: 'utf8',
});
if (check.status !== 0) {
  rmSync(path.join(nativeDir, 'build'), { recursive: true, force: true });
  done(false, `built but cannot load: ${(check.stderr || '').split('\n').find((l) => l.trim()) ?? 'unknown error'}`);
}
done(true, `built ${path.relative(root, addon)} (${check.stdout.trim()}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
