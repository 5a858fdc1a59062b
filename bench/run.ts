/**
 * Benchmark runner: `npm run bench -- [--suite <name>] [--reps N] [--warmup N] [--list] [-- suite args]`.
 *
 * Suites are listed by hand in SUITES below (one line each; add yours there). Each prints a
 * Markdown table and its result goes to bench/results/<suite>-<date>.json (gitignored) with the
 * backend and machine. Benchmarks are not tests: `npm test` never runs them.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { backendInfo } from '../src/engine/backend.js';
import { REPO_ROOT, writeResult } from './_common.js';
import { scriptArgs } from '../scripts/_args.js';
import type { Suite } from './_common.js';

/** A registry entry: the suite's one-line description and a lazy import (a broken suite breaks only itself). */
interface SuiteEntry {
  readonly description: string;
  load(): Promise<Suite>;
}

/** A suite module exporting a {@link Suite}. */
function moduleSuite(description: string, load: () => Promise<Suite>): SuiteEntry {
  return { description, load };
}

/** A suite that is a standalone script (it parses its own flags and writes its own JSON). */
function scriptSuite(file: string, description: string): SuiteEntry {
  return moduleSuite(description, async () => ({
    description,
    async run({ args }) {
      // `--reps`/`--warmup` are not forwarded: such a script has its own flags (pass them after `--`).
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, file), ...args], { stdio: 'inherit' });
      if (r.status !== 0) process.exitCode = r.status ?? 1; // the script said what went wrong
      return undefined;
    },
  }));
}

/** Every suite, by the name `--suite` takes. Suites in another room's style run as their own script. */
export const SUITES = new Map<string, SuiteEntry>([
  ['datasets', moduleSuite('images/s to decode and batch each dataset format; peak RSS over a 7 GB PCAM-shaped file',
    async () => (await import('./suites/datasets.js')).datasetsSuite)],
  ['engine', moduleSuite('ms per batch of 128: train step / vanilla gradient / inference, small CNN and ResNet-20, vs PyTorch',
    async () => (await import('./suites/engine.js')).engineSuite)],
  ['kernels', scriptSuite('bench/suites/kernels.ts', 'per-kernel ms: pure wasm vs native accelerator, layer shapes at batch 128')],
  ['saliency', moduleSuite('saliency methods and metrics: images/s at 32² and 96²; IG 200-step peak memory at 224²',
    async () => (await import('./suites/saliency.js')).saliencySuite)],
  ['scaat', scriptSuite('bench/suites/scaat.ts', 'SCAAT step cost per variant vs regular training; effect on ground-truth data')],
  ['train', moduleSuite('numTensors / bytes / heap over 1000 training steps per trainer (leak check) and ms per step',
    async () => (await import('./suites/train.js')).trainSuite)],
]);

async function main(): Promise<number> {
  const { values, positionals } = scriptArgs({
    allowPositionals: true,
    options: {
      suite: { type: 'string', default: 'engine' },
      reps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      list: { type: 'boolean', default: false },
    },
  }, 'npm run bench -- [--suite <name>[,<name>…]|all] [--reps N] [--warmup N] [--list] [-- <suite flags>]');
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
    const suite = await SUITES.get(name)!.load();
    const payload = await suite.run({ reps, warmup, args: positionals });
    if (process.exitCode) return Number(process.exitCode); // a script suite failed and said why
    if (payload) console.error(`# wrote ${path.relative(REPO_ROOT, await writeResult(name, backendInfo(), payload))}`);
  }
  return 0;
}

process.exitCode = await main();
