import { describe, expect, it } from 'vitest';
import { threeRunsJson } from '../../test/fixtures/index.js';
import { DataError } from '../errors.js';
import { decodeImage8, encodeImage8, mergeResults, parseResults, RESULTS_SCHEMA_VERSION } from './run-results.js';

type Json = Record<string, unknown> & { runs: Record<string, unknown>[] };
const fixture = () => threeRunsJson() as Json;

describe('parseResults', () => {
  it('accepts the fixture and keeps every run in order', () => {
    const r = parseResults(fixture(), 'three-runs.json');
    expect(r.schemaVersion).toBe(RESULTS_SCHEMA_VERSION);
    expect(r.runs.map((x) => x.trainer)).toEqual(['scaat', 'regular', 'pgd-at']);
    expect(r.runs[0]!.evaluation!.methods.map((m) => m.method)).toEqual(['vanilla-gradient', 'smooth-grad', 'integrated-gradients']);
  });

  it('names the file, the path inside the JSON, the expected and the found type', () => {
    const j = fixture();
    ((j.runs[1]!['evaluation'] as Json)['methods'] as Json[])[0]!['metrics'] = [{ name: 'entropy', value: 'high' }];
    expect(() => parseResults(j, 'a.json')).toThrow(DataError);
    expect(() => parseResults(j, 'a.json')).toThrow(/a\.json: .*\n\s+runs\[1\]\.evaluation\.methods\[0\]\.metrics\[0\]\.value: expected number, got string/);
  });

  it('reports a missing required field as missing', () => {
    const j = fixture();
    delete j.runs[0]!['trainer'];
    expect(() => parseResults(j, 'b.json')).toThrow(/runs\[0\]\.trainer: expected string, got nothing \(missing\)/);
  });

  it('rejects a newer schemaVersion with advice', () => {
    expect(() => parseResults({ ...fixture(), schemaVersion: RESULTS_SCHEMA_VERSION + 1 }, 'c.json')).toThrow(/newer than this scaat reads.*upgrade/);
  });

  it('rejects duplicate run ids, non-finite numbers and inconsistent arrays', () => {
    const dup = fixture();
    dup.runs[1]!['id'] = dup.runs[0]!['id'];
    expect(() => parseResults(dup)).toThrow(/two runs have the id 'scaat-s1'/);
    const inf = fixture();
    ((inf.runs[0]!['evaluation'] as Json)['cleanAccuracy'] as unknown) = Number.POSITIVE_INFINITY;
    expect(() => parseResults(inf)).toThrow(/cleanAccuracy/);
    const curve = fixture();
    const m = ((curve.runs[0]!['evaluation'] as Json)['methods'] as Json[])[0]!;
    (m['robustness'] as Json[])[0]!['accuracy'] = [0.5];
    expect(() => parseResults(curve)).toThrow(/ratios and accuracy must have the same length/);
  });

  it('checks that an image holds width·height·channels bytes', () => {
    const j = fixture();
    const ex = (j.runs[0]!['examples'] as Json[])[0]!;
    (ex['image'] as Record<string, unknown>)['width'] = 13;
    expect(() => parseResults(j)).toThrow(/runs\[0\]\.examples\[0\]\.image: data must hold width·height·channels bytes/);
  });

  it('rejects a document without runs', () => {
    expect(() => parseResults({ schemaVersion: 1, runs: [] }, 'd.json')).toThrow(/d\.json: .*runs/s);
    expect(() => parseResults('not json', 'e.json')).toThrow(/e\.json: .*\(top level\): expected object, got string/s);
  });
});

describe('mergeResults', () => {
  it('concatenates runs and makes clashing ids unique', () => {
    const a = parseResults(fixture());
    const merged = mergeResults([a, a]);
    expect(merged.runs).toHaveLength(6);
    expect(merged.runs.map((r) => r.id)).toEqual(['scaat-s1', 'regular-s1', 'pgd-at-s1', 'scaat-s1-2', 'regular-s1-2', 'pgd-at-s1-2']);
    expect(() => parseResults(JSON.parse(JSON.stringify(merged)))).not.toThrow();
  });
});

describe('Image8', () => {
  it('round-trips bytes through base64', () => {
    const bytes = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const im = encodeImage8(bytes, 3, 2, 3);
    expect(Array.from(decodeImage8(im))).toEqual(Array.from(bytes));
    expect(() => encodeImage8(bytes, 3, 3, 3)).toThrow(/expected 3×3×3 = 27 bytes, got 18/);
  });
});
