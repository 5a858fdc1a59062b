import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SweepCell, SweepResults } from './from-sweep.js';
import type { RunResult } from './run-results.js';
import { sweepCommandLine } from './from-sweep.js';
import { FURTHER_FILLS_NOTE, writeSweepReport } from './write-report.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A cell whose VG evaluation has AOPC_lerf and AOPC_rel in the given fills (the k-th fill's values divided by 10^k). */
function cell(trainer: string, seed: number, lerf: number, rel: number, fills: readonly string[]): SweepCell {
  const name = `trainer=${trainer}__seed=${seed}`;
  const variants = (metric: string, v: number) => fills.map((f, k) => ({ name: metric, ...(fills.length > 1 ? { variant: `${f} fill` } : {}), value: v / 10 ** k }));
  const run: RunResult = {
    id: name, trainer, config: {}, seed,
    evaluation: { cleanAccuracy: 0.9, methods: [{ method: 'vanilla-gradient', metrics: [{ name: 'entropy', value: 5 + seed }, ...variants('aopc-lerf', lerf), ...variants('aopc-rel', rel)] }] },
  };
  return { name, params: { trainer, seed: String(seed) }, status: 'done', run };
}
const sweep = (fills: readonly string[]): SweepResults => ({
  dir: 'runs/s', gridFile: 'studies/s.json', grid: {}, evaluation: {}, seedAxis: 'seed', partitionAxis: 'data',
  cells: [cell('regular', 0, 0.02, 2, fills), cell('regular', 1, 0.04, 4, fills), cell('scaat', 0, 0.001, 40, fills), cell('scaat', 1, 0.003, 60, fills)],
});

describe("writeSweepReport's table.md", () => {
  it('has a table of the further AOPC fills after the headline table, in the markdown and the terminal text', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'scaat-write-report-'));
    dirs.push(out);
    const written = await writeSweepReport(sweep(['uniform', 'black']), out, { defaultTitle: 'Sweep s' });
    const md = readFileSync(path.join(out, 'table.md'), 'utf8');
    const headlineAt = md.indexOf('| group | seeds | Clean accuracy ↑ | VG Entropy (bits) ↓ | VG AOPC_lerf (uniform fill) ↓ | VG AOPC_rel (uniform fill) ↑ |');
    const furtherAt = md.indexOf(FURTHER_FILLS_NOTE);
    expect(headlineAt).toBeGreaterThan(-1);
    expect(furtherAt).toBeGreaterThan(headlineAt);
    const further = md.slice(furtherAt).split('\n');
    expect(further.slice(2, 6)).toEqual([
      '| group | seeds | VG AOPC_lerf (black fill) ↓ | VG AOPC_rel (black fill) ↑ |',
      '|---|---:|---:|---:|',
      // black = uniform / 10: regular lerf (0.002, 0.004), rel (0.2, 0.4); SCAAT lerf (0.0001, 0.0003), rel (4, 6)
      '| trainer=regular | 2 | 0.00300 ± 0.00141 | 0.300 ± 0.141 |',
      '| trainer=scaat | 2 | **0.000200 ± 0.000141** | **5.00 ± 1.41** |',
    ]);
    expect(md.match(/more than the sum of their two standard deviations/g)?.length).toBe(1);
    expect(written.text).toContain(FURTHER_FILLS_NOTE);
    expect(written.text.indexOf(FURTHER_FILLS_NOTE)).toBeGreaterThan(written.text.indexOf('AOPC_rel (uniform fill)'));
  });

  it('has no such table for an evaluation of one fill', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'scaat-write-report-'));
    dirs.push(out);
    const written = await writeSweepReport(sweep(['uniform']), out, { defaultTitle: 'Sweep s' });
    expect(readFileSync(path.join(out, 'table.md'), 'utf8')).not.toContain(FURTHER_FILLS_NOTE);
    expect(written.text).not.toContain(FURTHER_FILLS_NOTE);
  });
});

describe('sweepCommandLine', () => {
  const s = { gridFile: 'studies/g.json', dir: 'studies/results/g' };
  it("names the whole grid's command, and a partial last invocation after it", () => {
    expect(sweepCommandLine(s)).toBe('Sweep `scaat sweep studies/g.json --out studies/results/g`');
    expect(sweepCommandLine({ ...s, command: 'scaat sweep studies/g.json --out o --results r' })).toBe('Sweep `scaat sweep studies/g.json --out o --results r`');
    const part = 'scaat sweep studies/g.json --out o --cells 5-9,11 --shard=2/3 --results r';
    expect(sweepCommandLine({ ...s, command: part })).toBe(`Sweep \`scaat sweep studies/g.json --out o --results r\` (its last invocation ran part of the grid: \`${part}\`)`);
  });
});
