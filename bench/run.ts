/**
 * Benchmark runner: `npm run bench -- [--suite <name>] [--reps N] [--warmup N] [--list] [-- suite args]`.
 *
 * Suites are listed by hand in SUITES below (one line each; add yours there). Each prints a
 * Markdown table and its result goes to bench/results/<suite>-<date>.json (gitignored) with the
 * backend and machine. Benchmarks are not tests: `npm test` never runs them.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { backendInfo } from '../src/engine/backend.js';
import { REPO_ROOT, writeResult } from './_common.js';
import type { Suite } from './_common.js';
import { engineSuite } from './suites/engine.js';
import { saliencySuite } from './suites/saliency.js';
import { trainSuite } from './suites/train.js';

/** A suite that is a standalone script (it parses its own flags and writes its own JSON). */
function scriptSuite(file: string, description: string): Suite {
  return {
    description,
    async run({ args }) {
      // `--reps`/`--warmup` are not forwarded: such a script has its own flags (pass them after `--`).
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, file), ...args], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`${file} exited with ${r.status}`);
      return undefined;
    },
  };
}

/** Every suite, by the name `--suite` takes. Suites in another room's style run as their own script. */
export const SUITES = new Map<string, Suite>([
  ['engine', engineSuite],
  ['kernels', scriptSuite('bench/suites/kernels.ts', 'per-kernel ms: pure wasm vs native accelerator, layer shapes at batch 128')],
  ['saliency', saliencySuite],
  ['scaat', scriptSuite('bench/suites/scaat.ts', 'SCAAT step cost per variant vs regular training; effect on ground-truth data')],
  ['train', trainSuite],
]);

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      suite: { type: 'string', default: 'engine' },
      reps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      list: { type: 'boolean', default: false },
    },
  });
  if (values.list) {
    for (const [name, s] of SUITES) console.log(`${name.padEnd(10)} ${s.description}`);
    return 0;
  }
  const reps = Number(values.reps);
  const warmup = Number(values.warmup);
  const names = values.suite === 'all' ? [...SUITES.keys()] : values.suite.split(',');
  const unknown = names.filter((n) => !SUITES.has(n));
  if (unknown.length || !(reps >= 1) || !(warmup >= 0)) {
    console.error(`bench: --suite from ${[...SUITES.keys(), 'all'].join(', ')} (got ${values.suite}); --reps ≥ 1, --warmup ≥ 0`);
    return 2;
  }
  for (const name of names) {
    const payload = await SUITES.get(name)!.run({ reps, warmup, args: positionals });
    if (payload) console.error(`# wrote ${path.relative(REPO_ROOT, await writeResult(name, backendInfo(), payload))}`);
  }
  return 0;
}

process.exitCode = await main();
