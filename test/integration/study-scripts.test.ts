// The scripts that make docs/results.md's joined tables (scripts/groups-table.ts,
// scripts/poster-table.ts) read each sweep's report/summary.json: run as a user runs them, on a
// report written from seed values chosen by hand, they print those values' mean ± std and the
// poster verdicts those means give; a bad command line is a named error with the usage, no stack.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepCell, SweepResults } from '../../src/report/from-sweep.js';
import type { RunResult } from '../../src/report/run-results.js';
import { writeSweepReport } from '../../src/report/write-report.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { expandGrid, readGrid } from '../../src/sweep/grid.js';
import { SWEEP_CELL_KIND } from '../../src/sweep/sweep-files.js';
import { REPO_ROOT } from '../fixtures/cli.js';

function cell(trainer: string, seed: number, acc: number, entropy: number, rel: number): SweepCell {
  const name = `trainer=${trainer}__seed=${seed}`;
  const run: RunResult = {
    id: name, trainer, config: {}, seed,
    evaluation: { cleanAccuracy: acc, methods: [{ method: 'vanilla-gradient', metrics: [{ name: 'entropy', value: entropy }, { name: 'aopc-rel', value: rel }] }] },
  };
  return { name, params: { trainer, seed: String(seed) }, status: 'done', run };
}

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-study-scripts-'));
  const sweep: SweepResults = {
    dir, title: 'hand-made', gridFile: 'studies/g.json', grid: {}, evaluation: {}, seedAxis: 'seed', partitionAxis: 'data',
    // regular: entropy 6.0 / 6.2, AOPC_rel 10 / 14; SCAAT: 5.0 / 5.2, 100 / 140
    cells: [cell('regular', 0, 0.99, 6.0, 10), cell('regular', 1, 0.98, 6.2, 14), cell('scaat', 0, 0.985, 5.0, 100), cell('scaat', 1, 0.975, 5.2, 140)],
  };
  await writeSweepReport(sweep, path.join(dir, 'report'), { defaultTitle: 'hand-made' });
  writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify({ title: 'hand-made' }));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `scripts/${name}`, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/groups-table.ts', () => {
  it("prints a group's mean ± std over its seeds, per chosen column", () => {
    const r = script('groups-table.ts', `${dir}::trainer=scaat`, '--methods', 'vanilla-gradient', '--metrics', 'clean-accuracy,entropy,aopc-rel');
    expect(r.stderr).toBe('');
    // accuracy (0.985, 0.975): 98.0 % ± 0.01/√2 = 0.7 points; entropy (5.0, 5.2): 5.10 ± 0.2/√2; AOPC_rel (100, 140): 120 ± 40/√2
    const row = `| ${path.basename(dir)}: trainer=scaat | 2 | 98.0 ± 0.7 % | 5.10 ± 0.141 | 120 ± 28.3 |`;
    expect(r.stdout.split('\n')).toEqual(['| group | seeds | Clean accuracy | VG Entropy (bits) | VG AOPC_rel |', '|---|---:|---:|---:|---:|', row, '']);
  });

  it('names a missing report (exit 3), an unknown option and a missing value (exit 2) without a stack; --help prints the usage', () => {
    const none = script('groups-table.ts', path.join(dir, 'nowhere'));
    expect(none.status).toBe(3);
    expect(none.stderr).toContain(`${path.join(dir, 'nowhere', 'report', 'summary.json')}: no report`);
    const bad = script('groups-table.ts', dir, '--bogus', 'x');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^groups-table\.ts: Unknown option '--bogus'\nusage: npx tsx scripts\/groups-table\.ts /);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const missing = script('q-by-sample.ts', 'run', '--bins');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("q-by-sample.ts: Option '--bins <value>' argument missing");
    const help = script('poster-table.ts', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npx tsx scripts\/poster-table\.ts SWEEP_DIR/);
  });
});

describe('scripts/poster-table.ts', () => {
  it('prints the measured change regular → SCAAT and its verdict against the poster', () => {
    const r = script('poster-table.ts', dir, '--methods', 'vanilla-gradient');
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    // entropy 6.1 → 5.1: −16.4 % (the poster's −15 to −20 %); AOPC_rel 12 → 120: ×10 (the poster's ×10 or more);
    // accuracy 98.5 % → 98.0 %: −0.50 points (within about 1.5)
    expect(lines.find((l) => l.startsWith('| Entropy (bits) | VG |'))).toMatch(/\| −16\.4 % \(meets\) \|$/);
    expect(lines.find((l) => l.startsWith('| AOPC_rel | VG |'))).toMatch(/\| ×10\.0 \(meets\) \|$/);
    expect(lines.find((l) => l.startsWith('| Clean accuracy |'))).toMatch(/\| −0\.50 pt \(meets\) \|$/);
    expect(lines[0]).toBe(`| measure | method | poster (regular → SCAAT) | ${path.basename(dir)} (2 / 2 seeds) |`);
    // DIR::TEXT picks a SCAAT group and names it in the column's head
    expect(script('poster-table.ts', `${dir}::trainer=scaat`).stdout.split('\n')[0]).toBe(`| measure | method | poster (regular → SCAAT) | ${path.basename(dir)}::trainer=scaat (2 / 2 seeds) |`);
  });
});

describe('scripts/study-status.ts', () => {
  it("counts a grid's kept cells (an evaluation with the grid's current settings) and lists the others by number", () => {
    const results = path.join(dir, 'kept');
    const file = path.join(REPO_ROOT, 'studies', 'mnist-pgd7.json');
    const grid = readGrid(file, ALL_TRAINERS);
    const cells = expandGrid(grid, { out: 'out', trainers: ALL_TRAINERS });
    // cells 1 and 3 kept with the grid's evaluation; cell 2 with other settings (evaluated again: not kept); cell 4 without its log
    cells.slice(0, 4).forEach((c, i) => {
      mkdirSync(path.join(results, 'mnist-pgd7', c.name), { recursive: true });
      // cell 4 lacks its log: not what a sweep would restore
      for (const f of i === 3 ? ['config.json', 'eval.json'] : ['config.json', 'log.jsonl', 'eval.json']) writeFileSync(path.join(results, 'mnist-pgd7', c.name, f), '{}');
      writeFileSync(path.join(results, 'mnist-pgd7', c.name, 'cell.json'), JSON.stringify({ kind: SWEEP_CELL_KIND, evaluation: i === 1 ? { ...grid.evaluation, limit: 1 } : grid.evaluation }));
    });
    // cell 5 parked part-way (its config.json and checkpoint in <grid>/parked/<cell>): still not kept, listed as parked
    mkdirSync(path.join(results, 'mnist-pgd7', 'parked', cells[4]!.name), { recursive: true });
    writeFileSync(path.join(results, 'mnist-pgd7', 'parked', cells[4]!.name, 'config.json'), '{}');
    // a published table.md of two partitions (2 of 3 and 4 of 4 cells evaluated)
    const docs = path.join(dir, 'docs');
    mkdirSync(path.join(docs, 'mnist-epsilon'), { recursive: true });
    writeFileSync(path.join(docs, 'mnist-epsilon', 'table.md'), 'data = a: 1 group, 2 of 3 cells evaluated.\n\ndata = b: 2 groups, 4 of 4 cells evaluated.\n');
    // a grid published in parts: its main table (2 of 6) and an earlier part's in a subfolder (3 of 6)
    mkdirSync(path.join(docs, 'mnist-pgd7', 'cells-1-3'), { recursive: true });
    writeFileSync(path.join(docs, 'mnist-pgd7', 'table.md'), '2 groups, 2 of 6 cells evaluated.\n');
    writeFileSync(path.join(docs, 'mnist-pgd7', 'cells-1-3', 'table.md'), '2 groups, 3 of 6 cells evaluated.\n');
    const r = script('study-status.ts', 'mnist-pgd7', 'mnist-epsilon', '--results', results, '--docs', docs);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('| grid | cells | kept | published | not kept (cell numbers) | parked |');
    expect(lines[2]).toBe('| mnist-pgd7 | 6 | 2 | 5 of 6 | 2,4-6 | 5 |');
    // nothing kept in this folder for mnist-epsilon; its (hand-made) published report: 6 of 7
    expect(lines[3]).toBe('| mnist-epsilon | 20 | 0 | 6 of 7 | 1-20 | — |');
    // the footnote is one plain sentence per term (no quoting left over from its source)
    expect(lines[5]).toMatch(/^Kept: cells with an evaluation .* the published count falls short\.$/);
    expect(lines[5]).not.toMatch(/['`]\s*\+/);
    const bad = script('study-status.ts', 'no-such-grid');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^study-status\.ts: no grid studies\/no-such-grid\.json \(grids: /);
  });
});

describe('scripts/headline-table.ts', () => {
  it("joins the grids' published headline tables, the chosen columns by name, '—' where a grid has none", () => {
    const docs = path.join(dir, 'headline-docs');
    const table = (head: string, rows: string[]) => `Sweep \`x\`.\n\n2 groups, 4 of 4 cells evaluated.\n\n${head}\n|---|---:|---:|---:|\n${rows.join('\n')}\n\nSaliency methods: …\n\n| other | table |\n|---|---|\n| a | b |\n`;
    mkdirSync(path.join(docs, 'a'), { recursive: true });
    mkdirSync(path.join(docs, 'b'), { recursive: true });
    writeFileSync(path.join(docs, 'a', 'table.md'), table('| group | seeds | Clean accuracy ↑ | VG Entropy (bits) ↓ |', ['| trainer=regular | 3 | 99.2 ± 0.1 % | 6.05 ± 0.0857 |', '| trainer=scaat | 3 | 99.1 ± 0.1 % | **4.93 ± 0.243** |']));
    writeFileSync(path.join(docs, 'b', 'table.md'), table('| group | seeds | Clean accuracy ↑ | Test accuracy (last epoch) ↑ |', ['| trainer=regular | 2/3 | 71.2 ± 1.3 % | 72.00 % |']));
    const r = script('headline-table.ts', 'a', 'b', '--docs', docs, '--columns', 'VG Entropy (bits),Clean accuracy');
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, 5)).toEqual([
      '| grid | group | seeds | VG Entropy (bits) | Clean accuracy |',
      '|---|---|---:|---:|---:|',
      '| a | trainer=regular | 3 | 6.05 ± 0.0857 | 99.2 ± 0.1 % |',
      '| a | trainer=scaat | 3 | **4.93 ± 0.243** | 99.1 ± 0.1 % |',
      '| b | trainer=regular | 2/3 | — | 71.2 ± 1.3 % |',
    ]);
    const missing = script('headline-table.ts', 'c', '--docs', docs);
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain(`${path.join(docs, 'c', 'table.md')}: no published table`);

    // GRID::PATTERN: the rows whose group matches the regular expression
    const some = script('headline-table.ts', 'a::scaat$', 'b', '--docs', docs, '--columns', 'Clean accuracy');
    expect(some.stderr).toBe('');
    expect(some.stdout.split('\n').slice(2, 4)).toEqual(['| a | trainer=scaat | 3 | 99.1 ± 0.1 % |', '| b | trainer=regular | 2/3 | 71.2 ± 1.3 % |']);
    expect(some.stdout).toContain('(among all of its groups, also those not shown)');
    const none = script('headline-table.ts', 'a::sgt', '--docs', docs);
    expect(none.status).toBe(3);
    expect(none.stderr).toContain("no group matches 'sgt'");
    const bad = script('headline-table.ts', 'a::(', '--docs', docs);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^headline-table\.ts: a::\(: not a regular expression after '::'/);
  });
});
