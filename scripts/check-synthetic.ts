/**
 * Is the synthetic dataset learnable by a small CNN in a few hundred steps, and does it need the
 * object? Writes a train and a test set (and the test set rendered without the object) to a temp
 * folder as uint8, then runs scripts/check-synthetic.py with Debian's PyTorch (/usr/bin/python3,
 * 2 threads): test accuracy, accuracy without the object (chance = needs the object) and a
 * colour-statistics probe (chance = no colour/area shortcut).
 *
 *   npx tsx scripts/check-synthetic.ts [--train 10000] [--test 2000] [--steps 500] [--image-size 32]
 *                                      [--channels 3] [--classes 4] [--distractors 4] [--seed 1]
 */
import { scriptArgs } from './_args.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSynthetic, renderSyntheticSample, resolveSyntheticOptions, type SyntheticOptions } from '../src/datasets/synthetic.js';

const { values } = scriptArgs({
  options: {
    train: { type: 'string', default: '10000' },
    test: { type: 'string', default: '2000' },
    steps: { type: 'string', default: '500' },
    'image-size': { type: 'string', default: '32' },
    channels: { type: 'string', default: '3' },
    classes: { type: 'string', default: '4' },
    distractors: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
  },
}, 'npx tsx scripts/check-synthetic.ts [--train 10000] [--test 2000] [--steps 500] [--image-size 32] [--channels 3] [--classes 4] [--distractors 4] [--seed 1]');
const base: SyntheticOptions = {
  imageSize: Number(values['image-size']),
  channels: Number(values.channels) as 1 | 3,
  numClasses: Number(values.classes),
  distractors: Number(values.distractors),
  seed: Number(values.seed),
};
const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-check-synthetic-'));
const toBytes = (x: Float32Array) => Uint8Array.from(x, (v) => Math.round(v * 255));
try {
  for (const [split, count] of [['train', Number(values.train)], ['test', Number(values.test)]] as const) {
    const ds = await openSynthetic({ ...base, split, count });
    const b = await ds.get(Array.from({ length: count }, (_, i) => i));
    writeFileSync(path.join(dir, `${split}-x.u8`), toBytes(b.x));
    writeFileSync(path.join(dir, `${split}-y.u8`), Uint8Array.from(b.y));
    if (split === 'test') {
      const o = resolveSyntheticOptions({ ...base, split, count });
      const n = o.imageSize * o.imageSize;
      const x = new Float32Array(count * n * o.channels);
      const m = new Uint8Array(count * n);
      for (let i = 0; i < count; i++) renderSyntheticSample(o, i, x, i * n * o.channels, m, i * n, false);
      writeFileSync(path.join(dir, 'test-x-without-object.u8'), toBytes(x));
    }
  }
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(resolveSyntheticOptions(base)));
  console.log(`synthetic ${JSON.stringify(base)}: ${values.train} train / ${values.test} test images in ${dir}`);
  const py = path.join(path.dirname(fileURLToPath(import.meta.url)), 'check-synthetic.py');
  const r = spawnSync('/usr/bin/python3', [py, dir, values.steps], {
    stdio: 'inherit',
    env: { ...process.env, OMP_NUM_THREADS: '2', MALLOC_MMAP_THRESHOLD_: '33554432', MALLOC_TRIM_THRESHOLD_: '4000000000', MALLOC_TOP_PAD_: '536870912' },
  });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
