/**
 * The addon's names of its modes and parameter slots (native/src/op_codes.h, exported by its
 * `opCodes()`) = this side's (./op-codes.ts), entry by entry: the built addon is required and
 * asked directly (not through loadAddon, which refuses a differing build and would only skip),
 * and compared with vitest's deep equality, so an entry added, dropped or renumbered on either
 * side fails here. Skipped only when the addon is not built and CI is unset.
 *
 * Also: each side's codes and slots are 0 … k − 1 once each; packParams places values by name;
 * opCodeDifferences names every difference; loadAddon refuses builds without the table or with
 * another one (fake addons, so these run without a build too).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { itUnless, nativeSkip } from '../../../test/helpers/index.js';
import { addonFile, loadAddon } from './_addon.js';
import { CHANNEL_SUM_PARAMS, NATIVE_OP_CODES, RELU_GRAD_PARAMS, opCodeDifferences, packParams } from './op-codes.js';
import type { OpCodeTable } from './op-codes.js';

const file = addonFile(process.env);
const built = existsSync(file);

interface MutableTable {
  modes: Record<string, Record<string, number>>;
  params: Record<string, Record<string, number>>;
  lengths: Record<string, number>;
}

/** A deep, mutable copy of this side's table. */
function copy(): MutableTable {
  return structuredClone(NATIVE_OP_CODES) as MutableTable;
}

describe('the op-code table (TypeScript side)', () => {
  it.each([...Object.entries(NATIVE_OP_CODES.modes), ...Object.entries(NATIVE_OP_CODES.params)])(
    '%s: codes / slots are 0 … k − 1, once each', (_name, block) => {
      const values = Object.values(block).sort((a, b) => a - b);
      expect(values).toEqual(values.map((_, i) => i));
    });

  it('gives every parameter block its number of slots as its length', () => {
    expect(Object.keys(NATIVE_OP_CODES.lengths).sort()).toEqual(Object.keys(NATIVE_OP_CODES.params).sort());
    expect(NATIVE_OP_CODES.lengths['conv2d']).toBe(24);
    expect(NATIVE_OP_CODES.lengths['channelSum']).toBe(5);
  });

  it('packParams puts each value at its slot by name, whatever the order given', () => {
    expect([...packParams(RELU_GRAD_PARAMS, { offDx: 30, n: 4, offX: 20, offDy: 10 })]).toEqual([4, 10, 20, 30]);
    expect([...packParams(CHANNEL_SUM_PARAMS, { rows: 6, c: 4, mean: 1, offX: 64, offOut: -1 })]).toEqual([6, 4, 1, 64, -1]);
  });
});

describe('opCodeDifferences', () => {
  it('finds none between a table and its copy', () => {
    expect(opCodeDifferences(copy())).toEqual([]);
  });

  it('names each entry renumbered, dropped or added, and a length changed', () => {
    const t = copy();
    [t.params['conv2d']!['act'], t.params['conv2d']!['alpha']] = [19, 18];
    delete t.modes['broadcast']!['vectorA'];
    t.modes['binaryOp']!['div'] = 3;
    t.lengths['relu'] = 4;
    expect(opCodeDifferences(t).sort()).toEqual([
      'lengths.relu: 4 in the addon, 3 here',
      'modes.binaryOp.div: 3 in the addon, missing here',
      'modes.broadcast.vectorA: missing in the addon, 2 here',
      'params.conv2d.act: 19 in the addon, 18 here',
      'params.conv2d.alpha: 18 in the addon, 19 here',
    ]);
  });

  it('finds every entry missing in a table that is not one', () => {
    const entries = Object.values(NATIVE_OP_CODES.modes).concat(Object.values(NATIVE_OP_CODES.params))
      .reduce((n, block) => n + Object.keys(block).length, Object.keys(NATIVE_OP_CODES.lengths).length);
    expect(opCodeDifferences(undefined)).toHaveLength(entries);
    expect(opCodeDifferences({})).toHaveLength(entries);
  });
});

describe('loadAddon checks the op codes of the build it loads', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-op-codes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A CommonJS stand-in for the addon, with `opCodes()` returning `table` (none when undefined). */
  const fakeAddon = (name: string, table: OpCodeTable | undefined): string => {
    const f = path.join(dir, `${name}.cjs`);
    const opCodes = table === undefined ? '' : `exports.opCodes = () => (${JSON.stringify(table)});`;
    writeFileSync(f, `exports.setThreads = () => {}; exports.info = () => ({ library: 'fake', threads: 1 }); ${opCodes}\n`);
    return f;
  };

  it('takes a build with the same table', () => {
    const r = loadAddon({ SCAAT_NATIVE_PATH: fakeAddon('same', copy()) });
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
  });

  it('refuses a build without the table, saying to rebuild', () => {
    const f = fakeAddon('none', undefined);
    const r = loadAddon({ SCAAT_NATIVE_PATH: f });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.disabled).toBe(false);
    expect(r.reason).toBe(`${f} predates its op-code table (no opCodes()); rebuild it: npm run build:native`);
  });

  it('refuses a build with another table, naming the entries', () => {
    const t = copy();
    for (const [k, v] of Object.entries(t.params['matmul']!)) t.params['matmul']![k] = (v + 1) % 14; // all 14 renumbered
    const r = loadAddon({ SCAAT_NATIVE_PATH: fakeAddon('other', t) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatch(/was built from other sources: its op codes differ from src\/engine\/native\/op-codes\.ts/);
    expect(r.reason).toContain('params.matmul.batch: 1 in the addon, 0 here');
    expect(r.reason).toContain('and 11 more); rebuild it: npm run build:native');
  });
});

// Both run where the addon is built or CI is set (so a missing build fails under CI); skipped, with
// the reason in their names for the skip summary, elsewhere.
describe('the built addon', () => {
  const itBuilt = itUnless(built ? undefined : nativeSkip(loadAddon({ ...process.env, SCAAT_NATIVE: '1' })));

  itBuilt('is built (required under CI)', () => {
    expect(built, `no ${file}`).toBe(true);
  });

  itBuilt('has the op codes of this side, entry by entry', () => {
    const addon = createRequire(import.meta.url)(file) as { opCodes?: () => unknown };
    expect(typeof addon.opCodes, `${file} exports opCodes() (else rebuild it: npm run build:native)`).toBe('function');
    expect(addon.opCodes!()).toStrictEqual(NATIVE_OP_CODES);
    expect(opCodeDifferences(addon.opCodes!())).toEqual([]);
  });
});
