import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { ALL_TRAINERS } from '../scaat/registry.js';
import { expandGrid, parseGrid, selectCells, shardCells } from './grid.js';
import type { Cell } from './grid.js';

const T = ALL_TRAINERS;
const cellsOf = (json: unknown, out = 'sw'): Cell[] => expandGrid(parseGrid(json, 'g.json', T), { out, trainers: T });
const names = (cells: readonly Cell[]) => cells.map((c) => c.name);
const BASE = { data: 'synthetic', model: 'mlp' };

describe('expandGrid', () => {
  it('crosses the axes (first key slowest); a trainer option drops out of trainers without it, so regular runs once per seed', () => {
    const cells = cellsOf({ base: BASE, axes: { trainer: ['regular', 'scaat', 'pgd-at', 'sgt'], '*.epsilon': ['8/255', 0.3], seed: [0, 1] } });
    expect(names(cells)).toEqual([
      'trainer=regular__seed=0', 'trainer=regular__seed=1',
      'trainer=scaat__epsilon=8_255__seed=0', 'trainer=scaat__epsilon=8_255__seed=1', 'trainer=scaat__epsilon=0.3__seed=0', 'trainer=scaat__epsilon=0.3__seed=1',
      'trainer=pgd-at__epsilon=8_255__seed=0', 'trainer=pgd-at__epsilon=8_255__seed=1', 'trainer=pgd-at__epsilon=0.3__seed=0', 'trainer=pgd-at__epsilon=0.3__seed=1',
      'trainer=sgt__seed=0', 'trainer=sgt__seed=1',
    ]);
    const scaat = cells[2]!.config;
    expect(scaat.trainer).toBe('scaat');
    expect(scaat.seed).toBe(0);
    expect(scaat.trainerOptions['scaat']!['epsilon']).toBe(8 / 255); // '8/255' coerced by the trainer's options
    expect(cells[8]!.config.trainerOptions['pgd-at']!['epsilon']).toBe(0.3);
    expect(cells[0]!.config.trainerOptions['regular']).toEqual({});
    expect(cells.every((c) => c.source === undefined)).toBe(true);
    expect(cells.map((c) => c.root)).toEqual(cells.map((_, i) => i));
    expect(Object.fromEntries(cells[2]!.params.map((p) => [p.axis.name, p.value.display]))).toEqual({ trainer: 'scaat', epsilon: '8/255', seed: '0' });
  });

  it('an option that needs another setting is checked with the base and the cell, not alone: sharedBackward with fgsm-rs from the base or from another axis', () => {
    const fromBase = cellsOf({ base: { ...BASE, trainerOptions: { scaat: { attack: 'fgsm-rs' } } }, axes: { trainer: ['scaat'], 'scaat.sharedBackward': [true] } });
    expect(fromBase.map((c) => c.config.trainerOptions['scaat']!['sharedBackward'])).toEqual([true]);
    const fromAxis = cellsOf({ base: BASE, axes: { trainer: ['scaat', 'pgd-at'], '*.attack': ['fgsm-rs'], '*.sharedBackward': [true] } });
    expect(names(fromAxis)).toEqual(['trainer=scaat__attack=fgsm-rs__sharedBackward=true', 'trainer=pgd-at__attack=fgsm-rs__sharedBackward=true']);
    expect(fromAxis.map((c) => c.config.trainerOptions[c.config.trainer]!['sharedBackward'])).toEqual([true, true]);
    // a cell that is invalid as a whole is still named by the value's JSON path
    const run = () => cellsOf({ base: BASE, axes: { trainer: ['scaat'], 'scaat.attack': ['pgd', 'fgsm-rs'], 'scaat.sharedBackward': [true] } });
    expect(run).toThrow("g.json: axes.scaat.sharedBackward[0]: trainerOptions.scaat: 'sharedBackward' takes one attack step along the clean backward's input gradient; it needs 'attack' 'fgsm-rs', got 'pgd'");
  });

  it('labels values by the object form, and takes the union of a list of products (names canonical, duplicates once)', () => {
    const cells = cellsOf({
      base: { model: 'mlp' },
      axes: [
        { data: { syn32: 'synthetic:imageSize=32', syn96: 'synthetic:imageSize=96' }, seed: [0, 1] },
        { seed: [1], data: { syn32: 'synthetic:imageSize=32' }, 'scaat.steps': [3], trainer: ['scaat'] },
      ],
    });
    expect(names(cells)).toEqual([
      'data=syn32__seed=0', 'data=syn32__seed=1', 'data=syn96__seed=0', 'data=syn96__seed=1',
      'data=syn32__seed=1__scaat.steps=3__trainer=scaat',
    ]);
    expect(cells[2]!.config.data).toBe('synthetic:imageSize=96');
    expect(cells[4]!.config.trainerOptions['scaat']!['steps']).toBe(3);
  });

  it('fine-tuning: a {"cell": …} model runs after its source, starts from its folder, and shares its shard', () => {
    const cells = cellsOf(
      {
        base: BASE,
        axes: [
          { trainer: ['regular'], seed: [0, 1, 2], epochs: [4] },
          { trainer: ['scaat'], seed: [0, 1, 2], model: { ft: { cell: { trainer: 'regular', epochs: 4 } } }, epochs: [1] },
          { trainer: ['sgt'], seed: [0, 1, 2], epochs: [4] },
        ],
      },
      '/runs/study',
    );
    expect(names(cells)).toEqual([
      'trainer=regular__seed=0__epochs=4', 'trainer=regular__seed=1__epochs=4', 'trainer=regular__seed=2__epochs=4',
      'trainer=scaat__seed=0__epochs=1__model=ft', 'trainer=scaat__seed=1__epochs=1__model=ft', 'trainer=scaat__seed=2__epochs=1__model=ft',
      'trainer=sgt__seed=0__epochs=4', 'trainer=sgt__seed=1__epochs=4', 'trainer=sgt__seed=2__epochs=4',
    ]);
    const ft = cells[4]!;
    expect(ft.source).toBe('trainer=regular__seed=1__epochs=4');
    expect(ft.config.model).toBe('/runs/study/trainer=regular__seed=1__epochs=4');
    expect(ft.config.epochs).toBe(1);
    expect(ft.root).toBe(cells[1]!.root);
    // Shards: from-scratch cells by turns (6 of them over 2 shards), each fine-tuning cell with its source.
    const s0 = shardCells(cells, { index: 0, count: 2 });
    const s1 = shardCells(cells, { index: 1, count: 2 });
    expect(names(s0)).toEqual(['trainer=regular__seed=0__epochs=4', 'trainer=regular__seed=2__epochs=4', 'trainer=scaat__seed=0__epochs=1__model=ft', 'trainer=scaat__seed=2__epochs=1__model=ft', 'trainer=sgt__seed=1__epochs=4']);
    expect(names(s1)).toEqual(['trainer=regular__seed=1__epochs=4', 'trainer=scaat__seed=1__epochs=1__model=ft', 'trainer=sgt__seed=0__epochs=4', 'trainer=sgt__seed=2__epochs=4']);
    expect([...names(s0), ...names(s1)].sort()).toEqual(names(cells).sort());
    // A source listed after its fine-tuning cell still runs first.
    const reversed = cellsOf({ base: BASE, axes: [{ trainer: ['scaat'], seed: [0], model: [{ cell: { trainer: 'regular' } }] }, { trainer: ['regular'], seed: [0] }] });
    expect(names(reversed)).toEqual(['trainer=regular__seed=0', 'trainer=scaat__seed=0__model=from-trainer-regular']);
  });

  it('training length: a cell continues its twin with the next fewer epochs where the step does not depend on the total, runs after it and shares its shard', () => {
    const constant = { ...BASE, schedule: 'constant' };
    const cells = cellsOf({ base: constant, axes: { trainer: ['regular', 'scaat'], epochs: [8, 2, 4], seed: [0, 1] } });
    const byName = new Map(cells.map((c) => [c.name, c]));
    for (const t of ['regular', 'scaat']) {
      for (const seed of [0, 1]) {
        const at = (e: number) => `trainer=${t}__epochs=${e}__seed=${seed}`;
        expect(byName.get(at(2))!.continues).toBeUndefined();
        expect(byName.get(at(4))!.continues).toBe(at(2));
        expect(byName.get(at(8))!.continues).toBe(at(4)); // the next shorter, not the shortest
        // after the run it continues, though the grid lists 8 first; in its shard
        const order = names(cells);
        expect(order.indexOf(at(2))).toBeLessThan(order.indexOf(at(4)));
        expect(order.indexOf(at(4))).toBeLessThan(order.indexOf(at(8)));
        expect(byName.get(at(8))!.root).toBe(byName.get(at(2))!.root);
        expect(byName.get(at(8))!.config.epochs).toBe(8);
      }
    }
    // 4 from-scratch cells (2 trainers × 2 seeds): each shard of 2 gets two whole length chains
    for (const i of [0, 1]) expect(shardCells(cells, { index: i, count: 2 })).toHaveLength(6);
    // the step schedule's milestones are epochs from the start: continuable too
    expect(cellsOf({ base: { ...BASE, schedule: 'step', lrMilestones: [3] }, axes: { epochs: [2, 4] } })[1]!.continues).toBe('epochs=2');
  });

  it('training length: no continuation where resuming the shorter run would not give the longer one (cosine, ratioStep auto, cached maps) or the configs differ in more than epochs', () => {
    // cosine (the default schedule): the learning rate at each step depends on the total
    expect(cellsOf({ base: BASE, axes: { epochs: [2, 4] } }).map((c) => c.continues)).toEqual([undefined, undefined]);
    // SCAAT's 'auto' γ is scaled to the run's epochs; regular in the same grid still continues
    const auto = cellsOf({ base: { ...BASE, schedule: 'constant', trainerOptions: { scaat: { ratioStep: 'auto' } } }, axes: { trainer: ['scaat', 'regular'], epochs: [2, 4] } });
    expect(auto.map((c) => [c.name, c.continues])).toEqual([
      ['trainer=scaat__epochs=2', undefined],
      ['trainer=scaat__epochs=4', undefined],
      ['trainer=regular__epochs=2', undefined],
      ['trainer=regular__epochs=4', 'trainer=regular__epochs=2'],
    ]);
    // SCAAT's cached maps and kept attack directions are checkpointed: those runs continue too
    for (const scaat of [{ saliencySource: 'previous-visit' }, { saliencySource: 'train-backward' }, { attack: 'fgsm-rs', attackGradient: 'train-backward' }]) {
      const cached = cellsOf({ base: { ...BASE, schedule: 'constant', trainer: 'scaat', trainerOptions: { scaat } }, axes: { epochs: [2, 4] } });
      expect(cached.map((c) => c.continues)).toEqual([undefined, 'epochs=2']);
    }
    // fine-tuning cells of one length chain continue each other only when they start from the same weights
    const ft = cellsOf({
      base: { ...BASE, schedule: 'constant' },
      axes: [{ trainer: ['regular'], seed: [0], epochs: [1, 2] }, { trainer: ['scaat'], seed: [0], model: { ft: { cell: { trainer: 'regular' } } }, epochs: [1, 2] }],
    });
    const get = (n: string) => ft.find((c) => c.name === n)!;
    expect(get('trainer=scaat__seed=0__epochs=1__model=ft').source).toBe('trainer=regular__seed=0__epochs=1');
    expect(get('trainer=scaat__seed=0__epochs=2__model=ft').source).toBe('trainer=regular__seed=0__epochs=2');
    expect(get('trainer=scaat__seed=0__epochs=2__model=ft').continues).toBeUndefined();
    expect(get('trainer=regular__seed=0__epochs=2').continues).toBe('trainer=regular__seed=0__epochs=1');
    const sameSource = cellsOf({
      base: { ...BASE, schedule: 'constant' },
      axes: [{ trainer: ['regular'], seed: [0] }, { trainer: ['scaat'], seed: [0], model: { ft: { cell: { trainer: 'regular' } } }, epochs: [1, 3] }],
    });
    expect(sameSource.map((c) => [c.name, c.source, c.continues])).toEqual([
      ['trainer=regular__seed=0', undefined, undefined],
      ['trainer=scaat__seed=0__model=ft__epochs=1', 'trainer=regular__seed=0', undefined],
      ['trainer=scaat__seed=0__model=ft__epochs=3', 'trainer=regular__seed=0', 'trainer=scaat__seed=0__model=ft__epochs=1'],
    ]);
  });

  it.each([
    [{ axes: { lrr: [0.1] } }, "g.json: axes.lrr: unknown config key 'lrr'; did you mean 'lr'?"],
    [{ axes: { epochs: ['two'] } }, "g.json: axes.epochs[0]: 'epochs' must be an integer ≥ 1, got 'two'"],
    [{ axes: { epochs: [null] } }, 'g.json: axes.epochs[0]: expected string or number or boolean or array or object, got null'],
    [{ axes: { seed: [] } }, 'g.json: axes.seed: Too small: expected array to have >=1 items'],
    [{ axes: [{ seed: [0] }, { trainer: ['magic'] }] }, "g.json: axes[1].trainer[0]: expected a trainer (regular, pgd-at, sgt, scaat), got \"magic\""],
    [{ axes: { 'scaat.epsilom': [0.1] } }, "g.json: axes.scaat.epsilom: trainer 'scaat' has no option 'epsilom'"],
    [{ axes: { '*.k': [0.1] }, base: { trainer: 'scaat' } }, "g.json: axes.*.k: applies to no cell (no cell of a trainer with option 'k')"],
    [{ axes: { trainer: ['scaat'], 'scaat.epsilon': ['big'] } }, "g.json: axes.scaat.epsilon[0]: trainerOptions.scaat: 'epsilon' must be a number in (0, 1] (pixel units; 1 = unbounded inside the mask), got 'big'"],
    [{ axes: { seed: [0] }, evaluation: { limt: 3 } }, "g.json: evaluation: unknown key 'limt'; did you mean 'limit'?"],
    [{ axes: { seed: [0] }, evaluation: { limit: 0 } }, "g.json: evaluation: 'limit' must be an integer ≥ 1, got 0"],
    [{ axes: { seed: [0] }, evaluation: { shard: '0/2' } }, "g.json: evaluation: unknown key 'shard'"],
    [{ axes: { seed: [0] }, evaluation: { aopc: { fraction: 2 } } }, "g.json: evaluation: 'aopc.fraction' must be a number in (0, 1], got 2"],
    [{ axes: { seed: [0] }, evaluation: { robustness: { attack: { epsilon: '8/0' } } } }, "g.json: evaluation: 'robustness.attack.epsilon' must be a number in (0, 1], got '8/0'"],
    [{ axes: { seed: [0] }, evaluation: { aopc: { fil: 'black' } } }, "g.json: evaluation: unknown key 'aopc.fil'; did you mean 'fill'?"],
    [{ axes: { seed: [0] }, evaluation: { aopc: { fill: ['uniform', 'uniform'] } } }, "g.json: evaluation: 'aopc.fill' must be a list of distinct fills ('uniform' is listed twice), got [\"uniform\",\"uniform\"]"],
    [{ axes: { seed: [0] }, base: { lrr: 1 } }, "g.json: base: unknown config key 'lrr'"],
    [{ axes: { '*.epsilon': ['8/255', '8_255'] }, base: { trainer: 'scaat' } }, "g.json: axes.*.epsilon[1]: its folder label '8_255' is also that of axes.*.epsilon[0]"],
    [{ axes: { data: { 'a/b': 'mnist' } } }, "g.json: axes.data.a/b: a label must be letters, digits"],
    [{ axes: { seed: [{ cell: { trainer: 'regular' } }] } }, "g.json: axes.seed[0]: a {\"cell\": …} reference is a model to start from; it is allowed in 'model' axes only"],
    [{ axes: { trainer: ['scaat'], model: [{ cell: { trainer: 'regular' } }] } }, 'g.json: axes.model[0]: {"cell": {"trainer":"regular"}} of cell trainer=scaat__model=from-trainer-regular matches no cell'],
    [{ axes: [{ trainer: ['regular'], seed: [0, 1] }, { trainer: ['scaat'], model: [{ cell: { trainer: 'regular' } }] }] }, 'matches no cell (a cell matches when each of its axes is given in the reference or equals this cell\'s)'],
    [
      { axes: [{ trainer: ['regular'] }, { trainer: ['regular'], seed: [0] }, { trainer: ['scaat'], seed: [0], model: [{ cell: { trainer: 'regular' } }] }] },
      'matches 2 cells (trainer=regular, trainer=regular__seed=0); give the axes that tell them apart',
    ],
    [{ axes: { trainer: ['regular'], model: [{ cell: { traner: 'regular' } }] } }, 'g.json: axes.model[0].cell.traner: not an axis key of this grid'],
    [{ axes: [{ lr: { a: 0.1 } }, { lr: { a: 0.2 } }] }, 'g.json: axes[1]: cell lr=a is also made by another axes object with other values under the same labels'],
    [{ axes: [{ trainer: ['scaat'], '*.epsilon': [0.1] }, { trainer: ['scaat'], 'scaat.epsilon': [0.1] }] }, 'g.json: cells trainer=scaat__epsilon=0.1 and trainer=scaat__scaat.epsilon=0.1 have the same config'],
  ])('%j → ConfigError naming the file and JSON path', (json, message) => {
    const run = () => cellsOf({ ...json, base: { ...BASE, ...((json as { base?: object }).base ?? {}) } });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });

  it('takes a list of AOPC fills in the evaluation section', () => {
    expect(parseGrid({ base: BASE, axes: { seed: [0] }, evaluation: { aopc: { fill: ['uniform', 'black'] } } }, 'g.json', T).evaluation.aopc).toEqual({ fill: ['uniform', 'black'] });
    expect(parseGrid({ base: BASE, axes: { seed: [0] }, evaluation: { aopc: { fill: 'black' } } }, 'g.json', T).evaluation.aopc).toEqual({ fill: 'black' });
  });

  it('rejects a cycle of fine-tuning cells', () => {
    const run = () => cellsOf({ base: BASE, axes: [{ trainer: ['regular'], model: { a: { cell: { trainer: 'scaat', model: 'b' } } } }, { trainer: ['scaat'], model: { b: { cell: { trainer: 'regular', model: 'a' } } } }] });
    expect(run).toThrow(/g\.json: cells start from each other in a cycle: trainer=regular__model=a → trainer=scaat__model=b → trainer=regular__model=a/);
  });
});

describe('shardCells', () => {
  it('gives every cell to exactly one shard, by turns, and checks i/n', () => {
    const cells = cellsOf({ base: BASE, axes: { seed: [0, 1, 2, 3, 4] } });
    expect(names(shardCells(cells, { index: 1, count: 3 }))).toEqual(['seed=1', 'seed=4']);
    expect(shardCells(cells)).toHaveLength(5);
    expect(() => shardCells(cells, { index: 3, count: 3 })).toThrow(/--shard: expected i\/n with integers 0 ≤ i < n, got 3\/3/);
  });
});

describe('selectCells', () => {
  it('takes cells by their 1-based run-order numbers with the cells they fine-tune or continue from, in run order', () => {
    const cells = cellsOf({
      base: { ...BASE, schedule: 'constant' }, // so a longer run continues the shorter one
      axes: [
        { trainer: ['regular'], seed: [0, 1], epochs: [2, 4] },
        { trainer: ['scaat'], seed: [0, 1], model: { ft: { cell: { trainer: 'regular', epochs: 4 } } }, epochs: [1] },
      ],
    });
    const numbered = names(cells);
    const at = (name: string) => numbered.indexOf(name) + 1;
    // the fine-tuning cell of seed 1 brings its source, which continues the 2-epoch run of seed 1
    const ft1 = 'trainer=scaat__seed=1__epochs=1__model=ft';
    expect(cells[at(ft1) - 1]!.source).toBe('trainer=regular__seed=1__epochs=4');
    expect(names(selectCells(cells, new Set([at(ft1)])))).toEqual(['trainer=regular__seed=1__epochs=2', 'trainer=regular__seed=1__epochs=4', ft1]);
    // a from-scratch cell alone; the whole grid without a selection
    expect(names(selectCells(cells, new Set([at('trainer=regular__seed=0__epochs=2')])))).toEqual(['trainer=regular__seed=0__epochs=2']);
    expect(names(selectCells(cells))).toEqual(numbered);
    // a longer fine-tuning cell both fine-tunes its source and continues its shorter twin: both come along
    const chained = cellsOf({
      base: { ...BASE, schedule: 'constant' },
      axes: [{ trainer: ['regular'], seed: [0] }, { trainer: ['sgt'], seed: [0], model: { ft: { cell: { trainer: 'regular' } } }, epochs: [1, 2] }],
    });
    const long = chained.find((c) => c.continues !== undefined && c.source !== undefined)!;
    expect(long.name).toBe('trainer=sgt__seed=0__model=ft__epochs=2');
    expect(names(selectCells(chained, new Set([names(chained).indexOf(long.name) + 1])))).toEqual(
      ['trainer=regular__seed=0', 'trainer=sgt__seed=0__model=ft__epochs=1', long.name]);
    expect(() => selectCells(cells, new Set([0]))).toThrow(`--cells: cell 0 does not exist; the grid has cells 1 to ${cells.length}`);
    expect(() => selectCells(cells, new Set([cells.length + 1]))).toThrow(ConfigError);
  });
});
