/**
 * Every grid in studies/ is valid and says what it is: it parses and expands, its `$comment` asks
 * a question, states the expected cost and the number of cells it has (checked), and its
 * evaluation section is valid for its data (synthetic data has masks; the others do not). No data
 * is opened and nothing is trained.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { expandGrid, readGrid } from '../../src/sweep/grid.js';
import { checkEvaluation } from '../../src/sweep/run.js';
import { REPO_ROOT } from '../fixtures/cli.js';

const STUDIES = path.join(REPO_ROOT, 'studies');
const grids = readdirSync(STUDIES).filter((f) => f.endsWith('.json')).sort();

describe('studies/*.json', () => {
  it('holds the smoke grid and the grids of the study', () => {
    expect(grids).toEqual(expect.arrayContaining(['smoke.json', 'mnist-headline.json', 'cifar10-headline.json', 'cifar10-length.json', 'synthetic-32.json', 'synthetic-96.json']));
  });

  it.each(grids)('%s: valid, with a question, a cost and the right number of cells', (name) => {
    const file = path.join(STUDIES, name);
    const grid = readGrid(file, ALL_TRAINERS);
    const cells = expandGrid(grid, { out: 'runs/x', trainers: ALL_TRAINERS });
    expect(grid.comment, 'a $comment').toBeDefined();
    expect(grid.comment!).toMatch(/Question/);
    expect(grid.comment!).toMatch(/cost/i);
    const stated = /= (\d+) cells/.exec(grid.comment!);
    expect(stated, 'the $comment states "= N cells"').not.toBeNull();
    expect(cells).toHaveLength(Number(stated![1]));
    for (const data of new Set(cells.map((c) => c.config.data))) {
      expect(() => checkEvaluation(grid, { size: 1000, hasMask: data.startsWith('synthetic') })).not.toThrow();
    }
    // Data is referenced, never copied into the repository.
    expect(readFileSync(file, 'utf8')).not.toMatch(/"data":\s*"(?!mnist|synthetic|cifar10-jpg:path=\.\.\/shared\/)/);
  });

  it('cifar10-length.json costs what it states: each longer cell continues the next shorter one of its trainer', () => {
    const cells = expandGrid(readGrid(path.join(STUDIES, 'cifar10-length.json'), ALL_TRAINERS), { out: 'runs/x', trainers: ALL_TRAINERS });
    const chains = cells.map((c) => [c.name, c.continues ?? null]);
    for (const t of ['regular', 'scaat', 'pgd-at', 'sgt']) {
      const at = (e: number) => `trainer=${t}__epochs=${e}__seed=0`;
      expect(chains).toEqual(expect.arrayContaining([[at(2), null], [at(4), at(2)], [at(8), at(4)], [at(16), at(8)]]));
    }
  });

  it('cifar10-eps16.json: each 8-epoch cell continues its seed\'s 4-epoch cell of the same trainer and attack, at the stated eps', () => {
    const cells = expandGrid(readGrid(path.join(STUDIES, 'cifar10-eps16.json'), ALL_TRAINERS), { out: 'runs/x', trainers: ALL_TRAINERS });
    const chains = cells.map((c) => [c.name, c.continues ?? null]);
    for (const seed of [0, 1, 2]) {
      for (const t of ['regular', 'scaat', 'pgd-at', 'sgt']) {
        const at = (e: number) => `seed=${seed}__trainer=${t}__epochs=${e}`;
        expect(chains).toEqual(expect.arrayContaining([[at(4), null], [at(8), at(4)]]));
      }
    }
    // PGD-7: SCAAT and the control for every seed (SCAAT's seeds 1 and 2 in a fourth block, after the earlier cells)
    for (const [t, seeds] of [['scaat', [0, 1, 2]], ['pgd-at', [0, 1, 2]]] as const) {
      for (const seed of seeds) {
        const at = (e: number) => `seed=${seed}__trainer=${t}__epochs=${e}__attack=pgd`;
        expect(chains).toEqual(expect.arrayContaining([[at(4), null], [at(8), at(4)]]));
      }
    }
    const adversarial = cells.filter((x) => x.config.trainer === 'scaat' || x.config.trainer === 'pgd-at');
    expect(adversarial).toHaveLength(24);
    // the fourth block appends: the first 32 cells keep their numbers (running queues select cells by number)
    expect(cells.slice(32).map((c) => c.name)).toEqual([1, 2].flatMap((seed) => [4, 8].map((e) => `seed=${seed}__trainer=scaat__epochs=${e}__attack=pgd`)));
    for (const c of adversarial) {
      const opts = c.config.trainerOptions[c.config.trainer] as { epsilon?: number; attack?: string };
      expect(opts.epsilon).toBeCloseTo(16 / 255, 12);
      expect(opts.attack, c.name).toBe(c.name.endsWith('attack=pgd') ? 'pgd' : 'fgsm-rs');
    }
  });
});
