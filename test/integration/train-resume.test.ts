/**
 * `scaat train` runs lose nothing: a real training process killed with SIGKILL mid-epoch, or
 * stopped with Ctrl-C (SIGINT → checkpoint → exit 130), and then resumed with `--resume` ends with
 * exactly the weights (bit for bit) and log records of an uninterrupted run with the same seed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDataSplit, resolveRun } from '../../src/cli/commands/train.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import type { TrainFlags } from '../../src/cli/commands/train.js';
import { loadClassifier } from '../../src/models/io.js';
import { train } from '../../src/train/loop.js';
import { runCli, startCli } from '../fixtures/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// pgd-at (random starts from the checkpointed Rng), Adam (moments), cosine lr, shuffled order:
// 384 samples / 64 = 6 steps per epoch, 2 epochs, a checkpoint every 2 steps.
const SETS = ['width=0.25', 'trainLimit=384', 'batchSize=64', 'evalLimit=64', 'checkpointEvery=2', 'logEvery=1', 'optimizer=adam', 'lr=0.001', 'pgd-at.steps=3'];
const FLAGS: TrainFlags = { trainer: 'pgd-at', model: 'mlp', data: 'synthetic', epochs: '2', seed: '3', backend: 'wasm', set: SETS };
const argv = (out: string) => ['train', '--trainer', 'pgd-at', '--model', 'mlp', '--data', 'synthetic', '--epochs', '2', '--seed', '3', '--backend', 'wasm', '--out', out, ...SETS.flatMap((s) => ['--set', s])];

const records = (dir: string) =>
  existsSync(path.join(dir, 'log.jsonl'))
    ? readFileSync(path.join(dir, 'log.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
const timeless = (rs: Array<Record<string, unknown>>) =>
  rs.filter((r) => r['type'] === 'step' || r['type'] === 'epoch').map(({ seconds: _s, samplesPerSecond: _p, ...r }) => r);
const latestName = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'checkpoints', 'latest.json'), 'utf8')) as { name: string }).name;
const latestState = (dir: string) =>
  JSON.parse(readFileSync(path.join(dir, 'checkpoints', latestName(dir), 'state.json'), 'utf8')) as { step: number; epoch: number; batch: number };
const weights = async (dir: string) => (await loadClassifier(dir)).model.getWeights().map((t) => Array.from(t.dataSync()));

/** Sends `sig` (`times` times, 20 ms apart) once the run has logged step ≥ `step`; resolves with how the process ended. */
async function stopAtStep(dir: string, step: number, sig: NodeJS.Signals, times = 1) {
  const child = startCli(argv(dir));
  let exited = false;
  void child.done.then(() => (exited = true));
  while (!exited && !records(dir).some((r) => r['type'] === 'step' && (r['step'] as number) >= step)) {
    await new Promise((r) => setTimeout(r, 10));
  }
  for (let k = 0; k < times; k++) {
    if (k > 0) await new Promise((r) => setTimeout(r, 20)); // a moment apart: delivered separately, not merged by the kernel
    child.kill(sig);
  }
  return child.done;
}

describe('scaat train --resume', () => {
  it('after SIGKILL and after Ctrl-C during training, ends with the weights of an uninterrupted run', async () => {
    // Reference: the same resolved config, trained in this process without interruption.
    const refDir = path.join(tmp, 'reference');
    const { config } = resolveRun(FLAGS);
    const ref = await train({
      config,
      data: { train: await openDataSplit('synthetic', 'train'), test: await openDataSplit('synthetic', 'test') },
      runDir: refDir,
      trainers: ALL_TRAINERS,
    });
    expect(ref.steps).toBe(12);

    // Both interruptions at once (two cores): SIGKILL and SIGINT once step 3 is logged.
    const killed = path.join(tmp, 'killed');
    const interrupted = path.join(tmp, 'interrupted');
    const [k, i] = await Promise.all([stopAtStep(killed, 3, 'SIGKILL'), stopAtStep(interrupted, 3, 'SIGINT')]);

    // Where the signals land depends on the machine's load; the resume oracle below holds wherever
    // they do, so only what it needs is asserted: each run stopped before its last step (at or after
    // the checkpoint of step 2, written before step 3 is logged), so each resume has steps to run.
    expect(k.signal).toBe('SIGKILL');
    const ks = latestState(killed);
    expect(ks.step).toBeGreaterThanOrEqual(2);
    expect(ks.step).toBeLessThan(12);

    expect(i.code, i.stderr).toBe(130);
    expect(i.stderr).toMatch(/SIGINT: finishing the current step/);
    const is = latestState(interrupted);
    expect(is.step).toBeGreaterThanOrEqual(3);
    expect(is.step).toBeLessThan(12);
    const lastLogged = Math.max(...records(interrupted).filter((r) => r['type'] === 'step').map((r) => r['step'] as number));
    expect(is.step).toBe(lastLogged); // Ctrl-C checkpointed the step it finished: nothing lost
    // and says so, naming that checkpoint (epochs counted from 1 in the message, from 0 in the state)
    expect(i.stderr).toContain(
      `interrupted at epoch ${is.epoch + 1}, batch ${is.batch}, step ${is.step}; checkpoint ${latestName(interrupted)} written; continue with: scaat train --resume`,
    );

    // Resume in this process (same code path as the CLI binary, without another start-up).
    const rk = await runCli(['train', '--resume', killed]);
    const ri = await runCli(['train', '--resume', interrupted]);
    expect(rk.code, rk.stderr).toBe(0);
    expect(ri.code, ri.stderr).toBe(0);
    const refW = ref.classifier.model.getWeights().map((t) => Array.from(t.dataSync()));
    expect(await weights(killed)).toEqual(refW);
    expect(await weights(interrupted)).toEqual(refW);
    expect(timeless(records(killed))).toEqual(timeless(records(refDir)));
    expect(timeless(records(interrupted))).toEqual(timeless(records(refDir)));
  });

  it('a stop delivered twice within a second (coreutils timeout signals the command and its process group) is one stop: the checkpoint is written', async () => {
    const dir = path.join(tmp, 'twice');
    const r = await stopAtStep(dir, 3, 'SIGTERM', 2);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/SIGTERM: finishing the current step/);
    const state = latestState(dir);
    expect(state.step).toBe(Math.max(...records(dir).filter((x) => x['type'] === 'step').map((x) => x['step'] as number)));
    expect(r.stderr).toContain(`checkpoint ${latestName(dir)} written`);
    expect(records(dir).at(-1)?.['type']).toBe('interrupted');
  });

  it('refuses config changes on resume and bad options, naming them (exit 2), leaving the run untouched', async () => {
    const dir = path.join(tmp, 'reference');
    const before = readFileSync(path.join(dir, 'log.jsonl'), 'utf8');
    const r = await runCli(['train', '--resume', dir, '--set', 'lr=0.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only --epochs and --backend may change, got --set/);
    const bad = await runCli(['train', '--set', 'lrr=1', '--out', path.join(tmp, 'bad')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ConfigError: --set: unknown config key 'lrr'; did you mean 'lr'\?/);
    expect(existsSync(path.join(tmp, 'bad'))).toBe(false);
    const preset = path.join(tmp, 'broken.json');
    writeFileSync(preset, '{"epochs": 3,');
    const broken = await runCli(['train', '--config', preset, '--out', path.join(tmp, 'bad')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`ConfigError: --config ${preset}: not valid JSON`);
    expect(existsSync(path.join(tmp, 'bad'))).toBe(false);
    expect(readFileSync(path.join(dir, 'log.jsonl'), 'utf8')).toBe(before);
  });
});
