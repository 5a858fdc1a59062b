/**
 * Run integrity (issue 16), end to end through the CLI: one writer per run folder (a second
 * process is refused with exit 4; a killed holder's lock is stale), evaluations and explanations
 * that name the exact weights they used (SHA-256, checkpoint step; checkpoints verified; merge
 * refuses mixed weights; the report shows the hash), no resume below the run's progress,
 * non-finite inputs and failed outputs as named errors without litter, and unreadable images
 * found by `data inspect --verify` or before a run folder is created.
 */
import jpeg from 'jpeg-js';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/io/npy.js';
import { MODELS } from '../../src/models/registry.js';
import { saveClassifier } from '../../src/models/io.js';
import { runCli, startCli } from '../fixtures/cli.js';
import { useBackend } from '../helpers/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-integrity-'));
const f = (...p: string[]): string => path.join(tmp, ...p);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => useBackend('cpu'));

const DATA = 'synthetic:count=600,imageSize=16,channels=1,numClasses=3';
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const json = <T = Record<string, unknown>>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const records = (dir: string): Array<Record<string, unknown>> =>
  existsSync(path.join(dir, 'log.jsonl')) ? readFileSync(path.join(dir, 'log.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
const hidden = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('.'));
/** A saved side×side×1, 3-class model (seeded) at `dir`. */
const saveModel = (dir: string, seed: number, side = 16) => saveClassifier(MODELS.get('mlp')!.create({ inputShape: [side, side, 1], numClasses: 3, seed, width: 0.1 }), dir);
const evaluateArgs = (model: string, out: string, data = DATA) => ['evaluate', '-m', model, '-d', data, '--methods', 'vanilla-gradient', '--metrics', 'entropy', '--limit', '8', '--batch-size', '4', '--backend', 'cpu', '-q', '--out', out];

describe('a run folder has one writer, and what is computed from it names its weights', () => {
  const run = f('busy');
  let latest: { name: string; step: number; weights: string };

  it('refuses a second writer (exit 4, owner named); a killed holder leaves a stale lock that the next resume takes over', async () => {
    const a = startCli(['train', '--model', 'mlp', '--data', DATA, '--epochs', '2', '--backend', 'wasm', '--out', run, ...['batchSize=8', 'logEvery=1', 'checkpointEvery=5', 'evalEvery=0'].flatMap((s) => ['--set', s])]);
    let exited = false;
    void a.done.then(() => (exited = true));
    while (!records(run).some((r) => r['type'] === 'step' && (r['step'] as number) >= 6)) {
      // a writer that died early fails here with its stderr, instead of a wait until the timeout
      if (exited) expect.fail(`the training process ended before it logged step 6; stderr:\n${a.stderr()}`);
      expect(a.stderr()).not.toMatch(/scaat: .*Error/);
      await new Promise((r) => setTimeout(r, 20));
    }
    a.kill('SIGSTOP'); // alive and holding the lock, but still
    try {
      const resume = await runCli(['train', '--resume', run]);
      expect(resume.code, resume.stderr).toBe(4);
      expect(resume.stderr).toMatch(new RegExp(`^scaat: LockedError: ${run} is being written by another scaat process \\(pid ${a.pid} since \\S+: scaat train --model mlp`));
      const again = await runCli(['train', '--model', 'mlp', '--data', DATA, '--backend', 'cpu', '--out', run]);
      expect(again.code).toBe(2); // a new run there is refused as ever (already holds a run)
    } finally {
      a.kill('SIGKILL');
    }
    expect((await a.done).signal).toBe('SIGKILL');
    expect(hidden(run).filter((n) => n.startsWith('.lock-'))).toEqual([expect.stringMatching(new RegExp(`^\\.lock-${a.pid}-`))]);
    const { name } = json<{ name: string }>(path.join(run, 'checkpoints', 'latest.json'));
    const state = json<{ step: number }>(path.join(run, 'checkpoints', name, 'state.json'));
    latest = { name, step: state.step, weights: sha(path.join(run, 'checkpoints', name, 'weights.bin')) };
    expect(existsSync(path.join(run, 'model'))).toBe(false);
  });

  it('evaluates a run without a final model on its latest checkpoint: verified, said, and recorded with its SHA-256 and step', async () => {
    const out = f('ckpt-eval.json');
    const r = await runCli(evaluateArgs(run, out));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`scaat: ${run}: using checkpoint ${latest.name} (step ${latest.step}; files verified against its SHA-256s; weights ${latest.weights.slice(0, 12)}…)`);
    const e = json<{ model: { weights: unknown } }>(out);
    expect(e.model.weights).toEqual({ sha256: latest.weights, checkpoint: { name: latest.name, step: latest.step } });
    // the report shows the hash prefix (and the checkpoint) per run
    const rep = await runCli(['report', out, '--out', f('report'), '--no-png']);
    expect(rep.code, rep.stderr).toBe(0);
    expect(readFileSync(f('report', 'report.html'), 'utf8')).toContain(
      `<code title="SHA-256 ${latest.weights}">${latest.weights.slice(0, 12)}</code> (checkpoint ${latest.name}, step ${latest.step})`,
    );
    // the explanation records them too
    const ex = await runCli(['explain', '-m', run, '-d', DATA, '--limit', '4', '--backend', 'cpu', '-q', '--out', f('ckpt-vg.npy')]);
    expect(ex.code, ex.stderr).toBe(0);
    expect(json<{ weights: unknown }>(f('ckpt-vg.npy.json')).weights).toEqual(e.model.weights);
  });

  it('refuses a checkpoint with 4 corrupted bytes (exit 3), writing nothing', async () => {
    const copy = f('corrupt');
    cpSync(run, copy, { recursive: true });
    const w = path.join(copy, 'checkpoints', latest.name, 'weights.bin');
    const bytes = readFileSync(w);
    for (let i = 100; i < 104; i++) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(w, bytes);
    const r = await runCli(evaluateArgs(copy, f('corrupt-eval.json')));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`DataError: checkpoint ${path.join(copy, 'checkpoints', latest.name)} is corrupted or incomplete: weights.bin does not match its SHA-256 in state.json`);
    expect(existsSync(f('corrupt-eval.json'))).toBe(false);
  });

  it('resumes after the holder was killed, with every epoch logged once, and refuses --epochs below its progress (exit 2)', async () => {
    const r = await runCli(['train', '--resume', run]);
    expect(r.code, r.stderr).toBe(0);
    const rs = records(run);
    expect(rs.filter((x) => x['type'] === 'epoch').map((x) => x['epoch'])).toEqual([0, 1]);
    expect(rs.filter((x) => x['type'] === 'start')).toHaveLength(1);
    expect(hidden(run)).toEqual([]); // the stale lock is gone, and this process released its own
    const config = readFileSync(path.join(run, 'config.json'), 'utf8');
    const model = sha(path.join(run, 'model', 'weights.bin'));
    const shrink = await runCli(['train', '--resume', run, '--epochs', '1']);
    expect(shrink.code).toBe(2);
    expect(shrink.stderr).toMatch(/ConfigError: epochs: 1 is below the progress of .*busy \(checkpoint step-00000150\): 2 epoch\(s\) done \(step 150\); continue it with --epochs 2 or more/);
    expect(readFileSync(path.join(run, 'config.json'), 'utf8')).toBe(config);
    expect(sha(path.join(run, 'model', 'weights.bin'))).toBe(model);
  });

  it('--resume with more epochs warns when the steps depend on the run\'s length (cosine), not when they do not (constant)', async () => {
    const grown = f('grown');
    const flat = f('grown-constant');
    cpSync(run, grown, { recursive: true });
    cpSync(run, flat, { recursive: true });
    writeFileSync(path.join(flat, 'config.json'), JSON.stringify({ ...json(path.join(flat, 'config.json')), schedule: 'constant' }));
    const g = await runCli(['train', '--resume', grown, '--epochs', '3']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stderr).toContain("train: warning: --epochs 3 extends a run of 2 epochs whose steps depend on its length (schedule 'cosine' sets each step's learning rate from the run's total length)");
    const c = await runCli(['train', '--resume', flat, '--epochs', '3']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).not.toContain('warning');
    expect(records(flat).filter((x) => x['type'] === 'epoch').map((x) => x['epoch'])).toEqual([0, 1, 2]);
  });
});

describe('merge refuses shards of different weights', () => {
  it('at the same model path (exit 3), naming both hashes', async () => {
    const model = f('swap');
    const first = await saveModel(model, 1);
    expect((await runCli([...evaluateArgs(model, f('s0.json')), '--shard', '0/2'])).code).toBe(0);
    const second = await saveModel(model, 2); // other weights, same path
    expect((await runCli([...evaluateArgs(model, f('s1.json')), '--shard', '1/2'])).code).toBe(0);
    expect(json<{ model: { weights: { sha256: string } } }>(f('s0.json')).model.weights.sha256).toBe(first.sha256);
    const r = await runCli(['merge', f('s0.json'), f('s1.json'), '--out', f('merged.json'), '-q']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`merge: ${f('s1.json')} was computed from other weights than ${f('s0.json')} (SHA-256 ${second.sha256} vs ${first.sha256}`);
    expect(existsSync(f('merged.json'))).toBe(false);
  });
});

describe('non-finite inputs and failed outputs are named errors that leave nothing behind', () => {
  beforeAll(async () => {
    await saveModel(f('m'), 3, 8);
    const x = Float32Array.from({ length: 4 * 64 }, (_, i) => (i % 7) / 7);
    await writeNpy(f('x.npy'), x, [4, 8, 8, 1]);
    await writeNpy(f('y.npy'), Int32Array.from([0, 1, 2, 0]), [4]);
    await writeNpy(f('nan.npy'), new Float32Array(4 * 64).fill(NaN), [4, 8, 8, 1]);
    const one = x.slice();
    one[2 * 64 + 3 * 8 + 5] = Infinity; // image 2, row 3, column 5
    await writeNpy(f('inf.npy'), one, [4, 8, 8, 1]);
  });
  const npy = (x: string) => ['-m', f('m'), '-d', 'npy', '--data-path', f(x), '--labels', f('y.npy'), '--backend', 'cpu', '-q'];

  it('an all-NaN input file is refused at load (exit 3) naming the file and the first bad index, not scored as entropy 0', async () => {
    const r = await runCli(['evaluate', ...npy('nan.npy'), '--methods', 'vanilla-gradient', '--metrics', 'entropy', '--out', f('nan-eval.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`DataError: ${f('nan.npy')}: inputs must be finite, found NaN at index [0, 0, 0, 0] (image 0)`);
    expect(existsSync(f('nan-eval.json'))).toBe(false);
    const e = await runCli(['explain', ...npy('inf.npy'), '--out', f('out', 'inf.npy')]);
    expect(e.code).toBe(3);
    expect(e.stderr).toContain(`DataError: ${f('inf.npy')}: inputs must be finite, found Infinity at index [2, 3, 5, 0] (image 2)`);
    expect(readdirSync(f('out'))).toEqual([]); // the aborted writer's temporary file is gone
  });

  it('explain: a --maps that cannot be written is exit 3, with no temporary file of --out left', async () => {
    writeFileSync(f('a-file'), '');
    const r = await runCli(['explain', ...npy('x.npy'), '--out', f('ex', 'vg.npy'), '--maps', f('a-file', 'maps.npy')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^scaat: DataError: cannot write .*a-file\/maps\.npy: E[A-Z]+: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(f('ex'))).toEqual([]);
  });
});

describe('unreadable images', () => {
  /** root/<split>/<class>/<i>.jpg, 8×8; the files named in `corrupt` have a corrupt body (valid header). */
  function imageFolder(root: string, corrupt: string[]): void {
    for (const split of ['train', 'test']) {
      for (const cls of ['a', 'b']) {
        mkdirSync(path.join(root, split, cls), { recursive: true });
        for (let i = 0; i < 3; i++) {
          const data = Buffer.alloc(8 * 8 * 4, cls === 'a' ? 40 + 20 * i : 200 - 20 * i);
          const bytes = Buffer.from(jpeg.encode({ data, width: 8, height: 8 }, 90).data);
          const name = path.join(split, cls, `${i}.jpg`);
          if (corrupt.includes(name)) {
            const sos = bytes.indexOf(Buffer.from([0xff, 0xda]));
            bytes.fill(0xff, sos + 14, bytes.length - 2); // the entropy-coded body
          }
          writeFileSync(path.join(root, name), bytes);
        }
      }
    }
  }

  it('data inspect --verify decodes every file and lists the bad ones (exit 3)', async () => {
    const root = f('jpegs');
    imageFolder(root, ['train/a/1.jpg', 'train/b/2.jpg']);
    const plain = await runCli(['data', 'inspect', root, '--split', 'train']);
    expect(plain.code).toBe(0); // the signatures are fine: only decoding finds it
    const r = await runCli(['data', 'inspect', root, '--split', 'train', '--verify']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`  verify   2 of 6 samples cannot be read:\n    1  ${path.join(root, 'train', 'a', '1.jpg')}: expected a decodable JPEG image, found a corrupt one`);
    expect(r.stdout).toContain(`\n    5  ${path.join(root, 'train', 'b', '2.jpg')}: expected a decodable JPEG image`);
    expect(r.stderr).toContain(`DataError: train: 2 of 6 samples of ${root} cannot be read (listed above)`);
    const ok = await runCli(['data', 'inspect', root, '--split', 'test', '--verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('  verify   all 6 samples read');
  });

  it('train decodes its first batch before creating the run folder', async () => {
    const root = f('jpegs-first');
    imageFolder(root, ['train/b/0.jpg']);
    const out = f('never');
    const r = await runCli(['train', '--model', 'mlp', '--data', root, '--backend', 'cpu', '--out', out, '--set', 'batchSize=6', '--set', 'evalEvery=0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${path.join(root, 'train', 'b', '0.jpg')}: expected a decodable JPEG image, found a corrupt one`);
    expect(existsSync(out)).toBe(false);
  });
});
