/**
 * `scaat sweep` on the smoke grid (studies/smoke.json: regular and SCAAT × 2 seeds, tiny synthetic
 * data): a sweep killed mid-cell (SIGKILL of a real process) or stopped with Ctrl-C resumes to the
 * results of an uninterrupted sweep (weights, evaluations and training logs identical); finished
 * cells are skipped, not retrained or re-evaluated; two shards run at once into one folder give the
 * unsharded report; fine-tuning cells start from their source cell's final weights; bad grids and
 * grid changes under started cells exit 2 naming the file and key, touching nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClassifier } from '../../src/models/io.js';
import { snapshot, useBackend } from '../helpers/index.js';
import { REPO_ROOT, runCli, spawnCli, startCli } from '../fixtures/cli.js';

const SMOKE = path.join(REPO_ROOT, 'studies', 'smoke.json');
const CELLS = ['trainer=regular__seed=0', 'trainer=regular__seed=1', 'trainer=scaat__epsilon=0.1__seed=0', 'trainer=scaat__epsilon=0.1__seed=1'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-sweep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const ref = path.join(tmp, 'reference');

const records = (dir: string) =>
  existsSync(path.join(dir, 'log.jsonl'))
    ? readFileSync(path.join(dir, 'log.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
const timeless = (rs: Array<Record<string, unknown>>) =>
  rs.filter((r) => r['type'] === 'step' || r['type'] === 'epoch').map(({ seconds: _s, samplesPerSecond: _p, ...r }) => r);
const weights = async (dir: string) => {
  const c = await loadClassifier(path.join(dir, 'model'));
  const w = c.model.getWeights().map((t) => Array.from(t.dataSync()));
  c.model.dispose();
  return w;
};
/** eval.json without where and when it ran. */
const evaluation = (dir: string) => {
  const { provenance: _p, model, ...rest } = JSON.parse(readFileSync(path.join(dir, 'eval.json'), 'utf8')) as { provenance: unknown; model: { source: string } };
  return { ...rest, model: { ...model, source: path.basename(model.source) } };
};

/** Starts a real `scaat sweep` and sends `sig` once `cell` has logged step ≥ `step`. */
async function stopInCell(out: string, cell: string, step: number, sig: NodeJS.Signals, extra: readonly string[] = ['-q']) {
  const child = startCli(['sweep', SMOKE, '--out', out, ...extra]);
  let exited = false;
  void child.done.then(() => (exited = true));
  while (!exited && !records(path.join(out, cell)).some((r) => r['type'] === 'step' && (r['step'] as number) >= step)) {
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill(sig);
  return child.done;
}

async function expectSameAsReference(out: string): Promise<void> {
  for (const c of CELLS) {
    expect(await weights(path.join(out, c)), `${c}: weights`).toEqual(await weights(path.join(ref, c)));
    expect(evaluation(path.join(out, c)), `${c}: eval.json`).toEqual(evaluation(path.join(ref, c)));
    expect(timeless(records(path.join(out, c))), `${c}: log`).toEqual(timeless(records(path.join(ref, c))));
  }
}

beforeAll(async () => {
  await useBackend('wasm');
}, 60_000);

describe('scaat sweep', () => {
  it('trains and evaluates every cell, leaves no tensor behind, and a second run skips every finished cell', async () => {
    const before = tf.memory().numTensors;
    const r = await runCli(['sweep', SMOKE, '--out', ref, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(readdirSync(ref).sort()).toEqual([...CELLS, 'report', 'sweep.json'].sort());
    const sweep = JSON.parse(readFileSync(path.join(ref, 'sweep.json'), 'utf8')) as { counts: Record<string, number>; cells: Array<{ name: string; params: Record<string, string>; status: string }> };
    expect(sweep.counts).toEqual({ pending: 0, training: 0, trained: 0, done: 4, failed: 0 });
    expect(sweep.cells.map((c) => c.name)).toEqual(CELLS);
    expect(sweep.cells[2]!.params).toEqual({ trainer: 'scaat', epsilon: '0.1', seed: '0' });
    for (const c of CELLS) {
      const config = JSON.parse(readFileSync(path.join(ref, c, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(config['seed']).toBe(Number(c.slice(-1)));
      expect(config['trainer']).toBe(c.includes('scaat') ? 'scaat' : 'regular');
    }
    expect(r.stdout).toContain('2 groups, 4 of 4 cells evaluated');

    const files = Object.fromEntries(CELLS.map((c) => [c, snapshot(path.join(ref, c))]));
    const again = await runCli(['sweep', SMOKE, '--out', ref, '--no-report']);
    expect(again.code, again.stderr).toBe(0);
    for (const [i, c] of CELLS.entries()) expect(again.stderr).toContain(`sweep: [${i + 1}/4] ${c}: done, skipped`);
    expect(again.stderr).toContain('sweep: 0 cells run, 4 already done, 0 failed');
    for (const c of CELLS) expect(snapshot(path.join(ref, c)), c).toEqual(files[c]);
  }, 120_000);

  it('killed mid-cell (SIGKILL) or stopped with Ctrl-C, resumes to the uninterrupted results without redoing finished cells', async () => {
    const killed = path.join(tmp, 'killed');
    const interrupted = path.join(tmp, 'interrupted');
    const [k, i] = await Promise.all([stopInCell(killed, CELLS[2]!, 3, 'SIGKILL'), stopInCell(interrupted, CELLS[2]!, 3, 'SIGINT')]);
    expect(k.signal).toBe('SIGKILL');
    expect(i.code, i.stderr).toBe(130);
    expect(i.stderr).toMatch(/interrupted at epoch \d, batch \d, step \d+; checkpoint step-\d+ written/);
    for (const out of [killed, interrupted]) {
      // Mid-cell: the first two cells finished, the third has a checkpoint and no final model, the fourth nothing.
      for (const c of CELLS.slice(0, 2)) expect(existsSync(path.join(out, c, 'eval.json')), `${out}/${c}`).toBe(true);
      expect(existsSync(path.join(out, CELLS[2]!, 'checkpoints', 'latest.json'))).toBe(true);
      expect(existsSync(path.join(out, CELLS[2]!, 'model'))).toBe(false);
      expect(existsSync(path.join(out, CELLS[3]!))).toBe(false);
    }
    const finished = Object.fromEntries([killed, interrupted].flatMap((out) => CELLS.slice(0, 2).map((c) => [path.join(out, c), snapshot(path.join(out, c))])));

    for (const out of [killed, interrupted]) {
      const r = await runCli(['sweep', SMOKE, '--out', out, '-q', '--no-report']);
      expect(r.code, r.stderr).toBe(0);
      const resume = records(path.join(out, CELLS[2]!)).find((x) => x['type'] === 'resume');
      expect(resume?.['checkpoint']).toMatch(/^step-\d+$/); // resumed from its checkpoint, not from the start
    }
    for (const [dir, files] of Object.entries(finished)) expect(snapshot(dir), dir).toEqual(files);
    await expectSameAsReference(killed);
    await expectSameAsReference(interrupted);
  }, 180_000);

  it('a sweep that resumes at an evaluation (nothing left to train) evaluates on the grid\'s backend, with the same results', () => {
    // A real process: TF.js's default backend there is 'cpu' until something sets one up.
    const out = path.join(tmp, 'eval-only');
    cpSync(ref, out, { recursive: true });
    const cell = CELLS[2]!;
    for (const f of ['eval.json', 'cell.json']) rmSync(path.join(out, cell, f));
    const r = spawnCli(['sweep', SMOKE, '--out', out, '--no-report'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`sweep: [3/4] ${cell}: evaluating`);
    const provenance = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'eval.json'), 'utf8')) as { provenance: { backend: { name: string } } }).provenance.backend.name;
    expect(provenance(path.join(out, cell))).toBe('wasm'); // the smoke grid's backend, not 'cpu'
    expect(evaluation(path.join(out, cell))).toEqual(evaluation(path.join(ref, cell)));
  }, 150_000);

  it('two shards run at once into one folder give the unsharded report', async () => {
    const sharded = path.join(tmp, 'sharded');
    const runs = await Promise.all([0, 1].map((s) => startCli(['sweep', SMOKE, '--out', sharded, '--shard', `${s}/2`, '-q']).done));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    // Shard 0 took cells 1 and 3, shard 1 cells 2 and 4 (every 2nd cell).
    const started = (c: string) => String(records(path.join(sharded, c)).find((x) => x['type'] === 'start')?.['time']);
    expect(started(CELLS[0]!) < started(CELLS[2]!) && started(CELLS[1]!) < started(CELLS[3]!)).toBe(true);
    await expectSameAsReference(sharded);

    const [a, b] = [await runCli(['report', ref]), await runCli(['report', sharded])];
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    // The same table, every metric (mean, std, n, best) alike; only the training times differ.
    const summary = (dir: string) => {
      const t = JSON.parse(readFileSync(path.join(dir, 'report', 'summary.json'), 'utf8')) as {
        columns: Array<{ key: string }>; partitions: Array<{ stats: unknown[][]; best: unknown[] }>;
      };
      const keep = t.columns.map((c, j) => (c.key === 'train-seconds' ? -1 : j)).filter((j) => j >= 0);
      expect(keep.length).toBe(t.columns.length - 1);
      return { ...t, columns: keep.map((j) => t.columns[j]), partitions: t.partitions.map((p) => ({ ...p, stats: p.stats.map((row) => keep.map((j) => row[j])), best: keep.map((j) => p.best[j]) })) };
    };
    expect(summary(sharded)).toEqual(summary(ref));
    // (⚠: a cell of the group logged a training warning, e.g. the smoke grid's tiny models predicting one class)
    for (const out of [a.stdout, b.stdout]) expect(out).toMatch(/trainer=scaat epsilon=0\.1(?: ⚠)?\s+2\s+\d+\.\d ± \d+\.\d %/);
    // the cells whose log.jsonl holds a warning record, and only those, are listed under the table
    const warned = CELLS.filter((c) => records(path.join(sharded, c)).some((x) => x['type'] === 'warning'));
    for (const c of CELLS) expect(b.stdout.includes(`  - ${c} (group `), c).toBe(warned.includes(c));
    expect(b.stdout.includes('Training warnings')).toBe(warned.length > 0);
    const html = readFileSync(path.join(sharded, 'report', 'report.html'), 'utf8');
    expect(html).toContain('<table class="metrics sweep"');
    expect(html).not.toMatch(/<script|<link|(src|href)\s*=\s*"https?:/i);
    // The entropy front (no partition axis: one figure), inline and as a PNG.
    expect(html).toContain('data-figure="front-entropy"');
    expect(html).toContain('<a href="figures/front-entropy.png">PNG</a>');
    expect(readdirSync(path.join(sharded, 'report', 'figures'))).toContain('front-entropy.png');
    // SCAAT's q_i per epoch: one figure for its group, from its first seed.
    expect(html).toContain('data-figure="q-distribution-trainer_scaat_epsilon_0.1"');
    expect(html).toContain('(seed 0, cell trainer=scaat__epsilon=0.1__seed=0)');
    expect(readdirSync(path.join(sharded, 'report', 'figures'))).toContain('q-distribution-trainer_scaat_epsilon_0.1.png');
    // Against the poster: ε (a `*.epsilon` axis) drops out of the regular cells, so SCAAT pairs with regular;
    // in the terminal, the HTML and table.md (with the headline table, for docs).
    const pair = 'trainer=scaat epsilon=0.1 (2 seeds) vs trainer=regular (2 seeds)';
    expect(b.stdout).toContain(`Against the poster (regular → SCAAT)\n${pair}\n`);
    expect(html).toContain(`<h3>${pair}</h3><table class="poster">`);
    const md = readFileSync(path.join(sharded, 'report', 'table.md'), 'utf8');
    expect(md).toMatch(/^\| trainer=scaat epsilon=0\.1(?: ⚠)? \| 2 \| \**\d+\.\d ± \d+\.\d %\** \|/m);
    expect(md).toContain(`**${pair}**`);
    expect(md).toMatch(/^\| Entropy \(bits\) \| VG \| 2 \/ 2 \| /m);
  }, 180_000);

  it('--results keeps each done cell without its model; a fresh folder restores them and trains only what is missing', async () => {
    const results = path.join(tmp, 'results');
    const first = path.join(tmp, 'results-first');
    cpSync(ref, first, { recursive: true });
    const save = await runCli(['sweep', SMOKE, '--out', first, '--results', results, '--no-report']);
    expect(save.code, save.stderr).toBe(0);
    expect(save.stderr).toContain('sweep: 0 cells run, 4 already done, 0 failed'); // done cells are saved, not run again
    expect(readdirSync(results).sort()).toEqual([...CELLS, 'sweep.json'].sort());
    for (const c of CELLS) {
      expect(readdirSync(path.join(results, c)).sort(), c).toEqual(['cell.json', 'config.json', 'eval.json', 'log.jsonl']);
      for (const f of readdirSync(path.join(results, c))) expect(readFileSync(path.join(results, c, f)), `${c}/${f}`).toEqual(readFileSync(path.join(ref, c, f)));
    }
    // The report of the results folder is the report of the full one (training times included: the logs are the same).
    const [a, b] = [await runCli(['report', ref]), await runCli(['report', results])];
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(path.join(results, 'report', 'summary.json'), 'utf8')).toBe(readFileSync(path.join(ref, 'report', 'summary.json'), 'utf8'));
    rmSync(path.join(results, 'report'), { recursive: true });

    // A new machine: the last cell's results never made it; the others are restored (no model) and skipped.
    rmSync(path.join(results, CELLS[3]!), { recursive: true });
    const fresh = path.join(tmp, 'results-fresh');
    const dry = await runCli(['sweep', SMOKE, '--out', fresh, '--results', results, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.match(/ kept /g)?.length).toBe(3);
    expect(dry.stdout).toMatch(new RegExp(`4  pending  .*${CELLS[3]!}`));
    expect(existsSync(fresh)).toBe(false); // a dry run restores nothing
    const r = await runCli(['sweep', SMOKE, '--out', fresh, '--results', results, '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    for (const c of CELLS.slice(0, 3)) expect(r.stderr).toContain(`sweep: ${c}: results restored from ${results} (no model)`);
    expect(r.stderr).toContain('sweep: 1 cells run, 3 already done, 0 failed');
    for (const c of CELLS.slice(0, 3)) expect(existsSync(path.join(fresh, c, 'model')), c).toBe(false);
    expect(evaluation(path.join(fresh, CELLS[3]!))).toEqual(evaluation(path.join(ref, CELLS[3]!))); // trained anew, bit for bit
    expect(evaluation(path.join(results, CELLS[3]!))).toEqual(evaluation(path.join(ref, CELLS[3]!))); // and saved
    const sweep = JSON.parse(readFileSync(path.join(results, 'sweep.json'), 'utf8')) as { counts: Record<string, number> };
    expect(sweep.counts).toEqual({ pending: 0, training: 0, trained: 0, done: 4, failed: 0 });

    // A restored cell evaluated again under other settings cannot be: it has no model, and says so.
    const cellJson = path.join(fresh, CELLS[0]!, 'cell.json');
    writeFileSync(cellJson, JSON.stringify({ ...JSON.parse(readFileSync(cellJson, 'utf8')) as object, evaluation: { limit: 1 } }));
    const again = await runCli(['sweep', SMOKE, '--out', fresh, '--no-report', '-q']);
    expect(again.code).toBe(1);
    expect(JSON.parse(readFileSync(path.join(fresh, CELLS[0]!, 'error.json'), 'utf8'))).toMatchObject({ code: 'MODEL_NOT_KEPT' });
    expect(again.stderr).toContain(`delete ${path.join(fresh, CELLS[0]!)} to train it again`);
  }, 150_000);

  it('--results parks a cell stopped part-way; a fresh folder resumes it from the parked checkpoint to the uninterrupted results, and the parked copy goes', async () => {
    const results = path.join(tmp, 'park-results');
    const cell = CELLS[2]!;
    const parked = path.join(results, 'parked', cell);
    const stopped = await stopInCell(path.join(tmp, 'park-first'), cell, 3, 'SIGINT', ['--results', results, '--no-report']);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain(`sweep: ${cell}: parked in ${parked}: a sweep with --results ${results} resumes it from there`);
    // its config, log and latest checkpoint only (not the older checkpoints)
    const latest = (JSON.parse(readFileSync(path.join(parked, 'checkpoints', 'latest.json'), 'utf8')) as { name: string }).name;
    expect(readdirSync(parked).sort()).toEqual(['checkpoints', 'config.json', 'log.jsonl']);
    expect(readdirSync(path.join(parked, 'checkpoints')).sort()).toEqual([latest, 'latest.json'].sort());
    expect(readdirSync(results).sort()).toEqual([...CELLS.slice(0, 2), 'parked', 'sweep.json'].sort());

    // A grid changed since the cell was parked: refused naming the parked config, nothing written.
    const changed = path.join(tmp, 'park-changed');
    const configFile = path.join(parked, 'config.json');
    const config = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, JSON.stringify({ ...(JSON.parse(config) as object), lr: 0.5 }));
    const refused = await runCli(['sweep', SMOKE, '--out', changed, '--results', results, '--no-report', '-q']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`cell ${cell}: ${configFile} differs from the grid in 'lr' (0.5 there`);
    expect(existsSync(changed)).toBe(false);
    writeFileSync(configFile, config);

    // A new machine: the done cells are restored, the parked one moved in and resumed, the last trained.
    const fresh = path.join(tmp, 'park-fresh');
    const dry = await runCli(['sweep', SMOKE, '--out', fresh, '--results', results, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`3  parked    ${path.join(fresh, cell)}`));
    expect(existsSync(fresh)).toBe(false);
    const r = await runCli(['sweep', SMOKE, '--out', fresh, '--results', results, '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`sweep: ${cell}: moved in from ${parked} (parked when a sweep stopped it): it resumes from there`);
    expect(r.stderr).toContain('sweep: 2 cells run, 2 already done, 0 failed');
    expect(records(path.join(fresh, cell)).find((x) => x['type'] === 'resume')?.['checkpoint']).toBe(latest);
    for (const c of CELLS.slice(2)) {
      expect(await weights(path.join(fresh, c)), `${c}: weights`).toEqual(await weights(path.join(ref, c)));
      expect(evaluation(path.join(fresh, c)), `${c}: eval.json`).toEqual(evaluation(path.join(ref, c)));
      expect(timeless(records(path.join(fresh, c))), `${c}: log`).toEqual(timeless(records(path.join(ref, c))));
      expect(evaluation(path.join(results, c)), `${c}: kept`).toEqual(evaluation(path.join(ref, c)));
    }
    expect(readdirSync(results).sort()).toEqual([...CELLS, 'sweep.json'].sort()); // the parked copy is gone

    // A parked copy of a cell that is done (stopped while it trained again, finished elsewhere) resumes nothing: dropped.
    const stale = path.join(results, 'parked', CELLS[0]!);
    cpSync(path.join(fresh, CELLS[2]!, 'config.json'), path.join(stale, 'config.json'));
    const again = await runCli(['sweep', SMOKE, '--out', fresh, '--results', results, '--no-report']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('sweep: 0 cells run, 4 already done, 0 failed');
    expect(existsSync(path.join(results, 'parked'))).toBe(false);
  }, 180_000);

  it('a fine-tuning cell starts from its source cell\'s final weights (SHA-256 in its config.json)', async () => {
    const grid = path.join(tmp, 'finetune.json');
    const smoke = JSON.parse(readFileSync(SMOKE, 'utf8')) as { base: Record<string, unknown>; evaluation: unknown };
    writeFileSync(grid, JSON.stringify({
      base: { ...smoke.base, epochs: 1 },
      axes: [{ trainer: ['scaat'], seed: [0], model: { 'from-regular': { cell: { trainer: 'regular' } } } }, { trainer: ['regular'], seed: [0] }],
      evaluation: smoke.evaluation,
    }));
    const out = path.join(tmp, 'finetune');
    const r = await runCli(['sweep', grid, '--out', out, '-q', '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    const source = path.join(out, 'trainer=regular__seed=0');
    const ft = path.join(out, 'trainer=scaat__seed=0__model=from-regular');
    const config = JSON.parse(readFileSync(path.join(ft, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config['model']).toBe(source);
    expect(config['modelSha256']).toBe(createHash('sha256').update(readFileSync(path.join(source, 'model', 'weights.bin'))).digest('hex'));
    // The source ran first although the grid lists it second.
    expect(String(records(source).find((x) => x['type'] === 'end')?.['time']) < String(records(ft).find((x) => x['type'] === 'start')?.['time'])).toBe(true);
    expect(existsSync(path.join(ft, 'eval.json'))).toBe(true);
  }, 120_000);

  it('an epochs axis: the longer cell continues the shorter one\'s finished run and ends bit for bit as the same cell trained from scratch', async () => {
    const smoke = JSON.parse(readFileSync(SMOKE, 'utf8')) as { base: Record<string, unknown>; evaluation: unknown };
    const gridOf = (epochs: number[]) => ({ base: smoke.base, axes: { trainer: ['regular', 'scaat'], epochs, seed: [0] }, evaluation: smoke.evaluation });
    writeFileSync(path.join(tmp, 'length.json'), JSON.stringify(gridOf([1, 2])));
    writeFileSync(path.join(tmp, 'length-ref.json'), JSON.stringify(gridOf([2])));
    const out = path.join(tmp, 'length');
    const dry = await runCli(['sweep', path.join(tmp, 'length.json'), '--out', out, '--dry-run']);
    expect(dry.stdout).toContain(`${path.join(out, 'trainer=scaat__epochs=2__seed=0')}  (continues trainer=scaat__epochs=1__seed=0)`);
    // --cells: the selected cell with the run it continues, numbered as in the whole list
    const numberOf = (name: string) => dry.stdout.split('\n').find((l) => l.endsWith(path.join(out, name)) || l.includes(`${path.join(out, name)}  `))!.trim().split(/\s+/)[0];
    const picked = await runCli(['sweep', path.join(tmp, 'length.json'), '--out', out, '--dry-run', '--cells', numberOf('trainer=scaat__epochs=2__seed=0')!]);
    expect(picked.stdout).toMatch(/4 cells, 2 in the selection/);
    expect(picked.stdout.split('\n').filter((l) => /^\s+\d+\s+pending/.test(l)).map((l) => l.trim().split(/\s+/)[0])).toEqual(
      [numberOf('trainer=scaat__epochs=1__seed=0'), numberOf('trainer=scaat__epochs=2__seed=0')]);
    const r = await runCli(['sweep', path.join(tmp, 'length.json'), '--out', out, '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('trainer=scaat__epochs=2__seed=0: continuing the finished run of trainer=scaat__epochs=1__seed=0');
    const scratch = path.join(tmp, 'length-ref');
    const s = await runCli(['sweep', path.join(tmp, 'length-ref.json'), '--out', scratch, '-q', '--no-report']);
    expect(s.code, s.stderr).toBe(0);
    for (const t of ['regular', 'scaat']) {
      const long = path.join(out, `trainer=${t}__epochs=2__seed=0`);
      const ref = path.join(scratch, `trainer=${t}__epochs=2__seed=0`);
      expect(records(long).find((x) => x['type'] === 'resume')?.['epoch'], `${t}: continued from the end of epoch 1, not trained anew`).toBe(1);
      expect(records(ref).some((x) => x['type'] === 'resume')).toBe(false);
      expect(await weights(long), `${t}: weights`).toEqual(await weights(ref));
      expect(timeless(records(long)), `${t}: log`).toEqual(timeless(records(ref)));
      expect(evaluation(long), `${t}: eval.json`).toEqual(evaluation(ref));
      expect(JSON.parse(readFileSync(path.join(long, 'config.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(path.join(ref, 'config.json'), 'utf8')));
      // the shorter cell is untouched: its own final model, one epoch of log
      expect(timeless(records(path.join(out, `trainer=${t}__epochs=1__seed=0`))).filter((x) => x['type'] === 'epoch')).toHaveLength(1);
    }
    // SCAAT's per-sample q_i carried through the checkpoint (epoch 2 moves them after the warm-up)
    expect(readFileSync(path.join(out, 'trainer=scaat__epochs=2__seed=0', 'q.npy'))).toEqual(readFileSync(path.join(scratch, 'trainer=scaat__epochs=2__seed=0', 'q.npy')));
  }, 180_000);

  it('--results on a fresh folder: a kept cell that a cell still to train continues is trained again (not restored without its model), bit for bit', async () => {
    // the epochs chain of the test above (its folder 'length' holds all four cells, done)
    const grid = path.join(tmp, 'length.json');
    const out = path.join(tmp, 'length');
    const results = path.join(tmp, 'length-results');
    const save = await runCli(['sweep', grid, '--out', out, '--results', results, '--no-report', '-q']);
    expect(save.code, save.stderr).toBe(0);
    // a new machine, and the longer SCAAT cell's results never made it: it must train, from its shorter twin's final checkpoint
    const [short, long] = ['trainer=scaat__epochs=1__seed=0', 'trainer=scaat__epochs=2__seed=0'];
    rmSync(path.join(results, long), { recursive: true });
    const fresh = path.join(tmp, 'length-fresh');
    const dry = await runCli(['sweep', grid, '--out', fresh, '--results', results, '--dry-run']);
    expect(dry.stdout).toMatch(new RegExp(`pending\\s+${path.join(fresh, short).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  \\(kept without its model, which ${long} starts from: trained again\\)`));
    expect(dry.stdout.match(/ kept /g)?.length).toBe(2); // the regular chain: nothing to train after it
    const r = await runCli(['sweep', grid, '--out', fresh, '--results', results, '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`sweep: ${short}: kept in ${results} without its model, which ${long} starts from: trained again`);
    expect(r.stderr).toContain('sweep: 2 cells run, 2 already done, 0 failed');
    for (const c of [short, long]) {
      expect(await weights(path.join(fresh, c)), `${c}: weights`).toEqual(await weights(path.join(out, c)));
      expect(evaluation(path.join(fresh, c)), `${c}: eval.json`).toEqual(evaluation(path.join(out, c)));
      expect(timeless(records(path.join(fresh, c))), `${c}: log`).toEqual(timeless(records(path.join(out, c))));
    }
    expect(existsSync(path.join(fresh, 'trainer=regular__epochs=2__seed=0', 'model'))).toBe(false); // restored, not trained
  }, 180_000);

  it('--reuse: a cell that is the same run as a done cell of another sweep (or of its results folder) is copied from it, not trained', async () => {
    // the epochs chain's folder and results folder of the tests above ('length', 'length-results': every cell done)
    const smoke = JSON.parse(readFileSync(SMOKE, 'utf8')) as { base: { trainerOptions: Record<string, unknown> }; evaluation: unknown };
    const gridOf = (trainerOptions: Record<string, unknown>) => ({ base: { ...smoke.base, trainerOptions }, axes: { trainer: ['regular', 'scaat'], seed: [0, 1] }, evaluation: smoke.evaluation });
    // PGD-AT options the length grid lacks: neither trainer here reads them, so seed 0's cells are its 2-epoch runs under other names
    const grid = path.join(tmp, 'reuse.json');
    writeFileSync(grid, JSON.stringify(gridOf({ ...smoke.base.trainerOptions, 'pgd-at': { lambda: 0.5 } })));
    const [source, results, out] = [path.join(tmp, 'length'), path.join(tmp, 'length-results'), path.join(tmp, 'reuse')];
    const same = { 'trainer=regular__seed=0': 'trainer=regular__epochs=2__seed=0', 'trainer=scaat__seed=0': 'trainer=scaat__epochs=2__seed=0' };
    const dry = await runCli(['sweep', grid, '--out', out, '--reuse', source, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    for (const [cell, from] of Object.entries(same)) expect(dry.stdout).toContain(`reused    ${path.join(out, cell)}  (the same run as ${path.join(source, from)})`);
    expect(dry.stdout.match(/ pending /g)?.length).toBe(2); // seed 1: no such run there
    // a SCAAT option changed: the SCAAT cell is another run; the regular one is still the same
    const other = path.join(tmp, 'reuse-other.json');
    writeFileSync(other, JSON.stringify(gridOf({ scaat: { ...(smoke.base.trainerOptions['scaat'] as object), lambda: 0.5 } })));
    const otherDry = await runCli(['sweep', other, '--out', out, '--reuse', results, '--dry-run']);
    expect(otherDry.stdout.match(/ reused /g)?.length, otherDry.stdout).toBe(1);
    expect(otherDry.stdout).toContain(`reused    ${path.join(out, 'trainer=regular__seed=0')}  (the same run as ${path.join(results, 'trainer=regular__epochs=2__seed=0')})`);
    const missing = await runCli(['sweep', grid, '--out', out, '--reuse', path.join(tmp, 'nowhere'), '--dry-run']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--reuse ${path.join(tmp, 'nowhere')}: no such folder`);

    const r = await runCli(['sweep', grid, '--out', out, '--reuse', source, '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('sweep: 2 cells run, 2 already done, 0 failed');
    for (const [cell, from] of Object.entries(same)) {
      expect(r.stderr).toContain(`sweep: ${cell}: the same run as ${path.join(source, from)} (config and evaluation): copied from it\n`);
      // copied whole: the same weights, evaluation and log, nothing trained or evaluated again
      for (const f of ['eval.json', 'log.jsonl', 'config.json', path.join('model', 'weights.bin')]) expect(readFileSync(path.join(out, cell, f)), `${cell}/${f}`).toEqual(readFileSync(path.join(source, from, f)));
      const record = JSON.parse(readFileSync(path.join(out, cell, 'cell.json'), 'utf8')) as { name: string; params: Record<string, string> };
      expect(record.name).toBe(cell);
      expect(record.params).toEqual({ trainer: cell.includes('scaat') ? 'scaat' : 'regular', seed: '0' });
    }
    for (const cell of ['trainer=regular__seed=1', 'trainer=scaat__seed=1']) expect(records(path.join(out, cell)).some((x) => x['type'] === 'end'), cell).toBe(true);
    // the report reads the copies under this grid's names, with their own config and log
    const report = await runCli(['report', out]);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(path.join(out, 'report', 'table.md'), 'utf8')).toMatch(/2 groups, 4 of 4 cells evaluated/);

    // from the results folder (no models): copied without one; a cell that a longer cell continues is
    // not copied from there (it needs weights) but from a sweep folder that has them, and continued
    const chain = path.join(tmp, 'reuse-chain.json');
    writeFileSync(chain, JSON.stringify({ ...gridOf(smoke.base.trainerOptions), axes: [{ trainer: ['regular'], epochs: [2, 3], seed: [0] }, { trainer: ['scaat'], seed: [0] }] }));
    const fromResults = await runCli(['sweep', chain, '--out', path.join(tmp, 'reuse-r'), '--reuse', results, '--dry-run']);
    expect(fromResults.stdout.match(/ reused /g)?.length, fromResults.stdout).toBe(1); // scaat's 2-epoch run; not the regular one
    const c = await runCli(['sweep', chain, '--out', path.join(tmp, 'reuse-r'), '--reuse', results, '--reuse', source, '--no-report']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain(`sweep: trainer=scaat__seed=0: the same run as ${path.join(results, 'trainer=scaat__epochs=2__seed=0')} (config and evaluation): copied from it (no model)`);
    expect(c.stderr).toContain(`sweep: trainer=regular__epochs=2__seed=0: the same run as ${path.join(source, 'trainer=regular__epochs=2__seed=0')} (config and evaluation): copied from it\n`);
    expect(c.stderr).toContain('continuing the finished run of trainer=regular__epochs=2__seed=0');
    expect(c.stderr).toContain('sweep: 1 cells run, 2 already done, 0 failed');
    // its log: the copied 2-epoch run's (itself continued from 1 epoch), then a resume at the end of epoch 2
    expect(records(path.join(tmp, 'reuse-r', 'trainer=regular__epochs=3__seed=0')).filter((x) => x['type'] === 'resume').map((x) => x['epoch'])).toEqual([1, 2]);
    expect(existsSync(path.join(tmp, 'reuse-r', 'trainer=scaat__seed=0', 'model'))).toBe(false);
  }, 120_000);

  it('records a failing cell in its error.json, runs the others, reports, and exits 1', async () => {
    const smoke = JSON.parse(readFileSync(SMOKE, 'utf8')) as { base: Record<string, unknown>; evaluation: unknown };
    const grid = path.join(tmp, 'diverge.json');
    writeFileSync(grid, JSON.stringify({ base: { ...smoke.base, epochs: 1 }, axes: { lr: { huge: 1e30, ok: 0.003 }, seed: [0] }, evaluation: smoke.evaluation }));
    const out = path.join(tmp, 'diverge');
    const r = await runCli(['sweep', grid, '--out', out, '-q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ScaatError: 1 of 2 cells failed .*\n {2}lr=huge__seed=0: ConfigError: epoch 1, step \d: the loss is NaN; training diverged/);
    const error = JSON.parse(readFileSync(path.join(out, 'lr=huge__seed=0', 'error.json'), 'utf8')) as Record<string, unknown>;
    expect(error['code']).toBe('CONFIG_ERROR'); // divergence is a ConfigError (issue 16: exit 2 for a single run)
    expect(existsSync(path.join(out, 'lr=ok__seed=0', 'eval.json'))).toBe(true); // the cell after it ran
    const sweep = JSON.parse(readFileSync(path.join(out, 'sweep.json'), 'utf8')) as { cells: Array<{ status: string; error?: string }> };
    expect(sweep.cells.map((c) => c.status)).toEqual(['failed', 'done']);
    expect(sweep.cells[0]!.error).toMatch(/^ConfigError: epoch 1, step \d: the loss is NaN/);
    expect(r.stdout).toMatch(/lr=huge\s+0\/1\s+—/);
  }, 120_000);

  it('a longer cell whose shorter run failed fails too (SOURCE_NOT_READY), copying nothing; the others run', async () => {
    const smoke = JSON.parse(readFileSync(SMOKE, 'utf8')) as { base: Record<string, unknown>; evaluation: unknown };
    const grid = path.join(tmp, 'diverge-length.json');
    writeFileSync(grid, JSON.stringify({ base: smoke.base, axes: { lr: { huge: 1e30, ok: 0.003 }, epochs: [1, 2], seed: [0] }, evaluation: smoke.evaluation }));
    const out = path.join(tmp, 'diverge-length');
    const r = await runCli(['sweep', grid, '--out', out, '-q', '--no-report']);
    expect(r.code).toBe(1);
    const error = JSON.parse(readFileSync(path.join(out, 'lr=huge__epochs=2__seed=0', 'error.json'), 'utf8')) as Record<string, unknown>;
    expect(error).toMatchObject({ code: 'SOURCE_NOT_READY', message: 'cell lr=huge__epochs=2__seed=0 continues cell lr=huge__epochs=1__seed=0, which has no final model yet (it failed or was interrupted)' });
    expect(readdirSync(path.join(out, 'lr=huge__epochs=2__seed=0'))).toEqual(['error.json']);
    expect(existsSync(path.join(out, 'lr=ok__epochs=2__seed=0', 'eval.json'))).toBe(true);
    expect(records(path.join(out, 'lr=ok__epochs=2__seed=0')).some((x) => x['type'] === 'resume')).toBe(true); // continued
  }, 120_000);

  describe('bad grids and grid changes → exit 2 naming the file and key; nothing written', () => {
    const write = (name: string, json: unknown) => {
      const f = path.join(tmp, name);
      writeFileSync(f, JSON.stringify(json));
      return f;
    };
    it.each([
      [{ axes: { lrr: [0.1] } }, "axes.lrr: unknown config key 'lrr'; did you mean 'lr'?"],
      [{ axes: { seed: [0] }, evaluation: { methods: ['vanilla-gradient'], limt: 4 } }, "evaluation: unknown key 'limt'"],
      [{ axes: { trainer: ['scaat'], '*.epsilon': ['8/255', 'big'] } }, "axes.*.epsilon[1]: trainerOptions.scaat: 'epsilon' must be a number in (0, 1] (pixel units; 1 = unbounded inside the mask), got 'big'"],
      [{ axes: { seed: [0] }, evaluation: { methods: ['vanilla-gradient'], metrics: ['entropyy'] } }, "evaluation: evaluate: unknown metric 'entropyy'"],
      [{ axes: { seed: [0] }, evaluation: { methods: ['vanilla-gradient'], metrics: ['pointing-game'] }, base: { data: 'mnist' } }, "evaluation: evaluate: metric 'pointing-game' needs ground-truth masks"],
    ])('%j', async (json, message) => {
      const f = write(`bad-${Math.random().toString(36).slice(2)}.json`, { base: { model: 'mlp', data: 'synthetic:count=64,imageSize=16' }, ...json });
      const out = path.join(tmp, 'never');
      const r = await runCli(['sweep', f, '--out', out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`ConfigError: ${f}: ${message}`);
      expect(existsSync(out)).toBe(false);
    });

    it('a grid changed under started cells, named per key, and the real exit status', async () => {
      const smoke = JSON.parse(readFileSync(SMOKE, 'utf8')) as { base: Record<string, unknown> };
      const changed = write('changed.json', { ...smoke, base: { ...smoke.base, lr: 0.01 } });
      const copy = path.join(tmp, 'changed');
      cpSync(ref, copy, { recursive: true });
      const before = snapshot(copy);
      const r = spawnCli(['sweep', changed, '--out', copy]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`ConfigError: ${changed}: cell ${CELLS[0]}: ${path.join(copy, CELLS[0]!, 'config.json')} differs from the grid in 'lr' (0.003 there, 0.01 in the grid)`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(snapshot(copy)).toEqual(before);
      // a trainer's own options are part of its cells' runs (named as such); another trainer's are not (the regular cells pass)
      const scaatChanged = write('changed-scaat.json', { ...smoke, base: { ...smoke.base, trainerOptions: { scaat: { ...(smoke.base['trainerOptions'] as { scaat: object }).scaat, lambda: 0.5 } } } });
      const t = spawnCli(['sweep', scaatChanged, '--out', copy]);
      expect(t.code, t.stderr).toBe(2);
      expect(t.stderr).toMatch(new RegExp(`ConfigError: ${scaatChanged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cell ${CELLS[2]}: .* differs from the grid in 'trainerOptions\\.scaat' \\(\\{.*"lambda":1.*\\} there, \\{.*"lambda":0\\.5.*\\} in the grid\\)`));
      expect(snapshot(copy)).toEqual(before);
      const shard = await runCli(['sweep', SMOKE, '--out', copy, '--shard', '2/2']);
      expect(shard.code).toBe(2);
      expect(shard.stderr).toContain('--shard: expected i/n with 0 ≤ i < n');
    });
  });
});
