// Outside requirements of the tests (test/helpers' REQUIREMENTS, Chromium): where one is missing a
// test skips, except under CI, where it fails; and .ci/run installs every one of them, when missing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM } from '../fixtures/chromium.js';
import { inCi, REQUIREMENTS, requirementStatus } from './index.js';
import type { Requirement } from './index.js';

const here = (what: string): Requirement => ({ what, packages: ['pkg-here'], present: () => true });
const absent = (what: string, packages = ['pkg-absent']): Requirement => ({ what, packages, present: () => false });

describe('requirementStatus', () => {
  it('runs when everything is present, skips where something is missing, and fails under CI instead', () => {
    expect(requirementStatus([here('a'), here('b')], {})).toEqual({ mode: 'run', reason: '' });
    expect(requirementStatus([here('a'), here('b')], { CI: 'true' })).toEqual({ mode: 'run', reason: '' });
    const missing = [here('a'), absent('numpy for /usr/bin/python3', ['python3-numpy']), absent('PIL', ['python3-pil'])];
    const skip = requirementStatus(missing, {});
    expect(skip.mode).toBe('skip');
    expect(skip.reason).toBe("skipped: numpy for /usr/bin/python3 and PIL are missing (install it with 'apt-get install python3-numpy python3-pil')");
    for (const ci of ['true', '1', 'yes', 'TRUE']) {
      const fail = requirementStatus(missing, { CI: ci });
      expect(fail.mode, `CI=${ci}`).toBe('fail');
      expect(fail.reason).toMatch(/^CI is set but numpy for \/usr\/bin\/python3 and PIL are missing; \.ci\/run installs it \('apt-get install python3-numpy python3-pil'\)/);
    }
    for (const ci of ['', '0', 'false', 'FALSE', undefined]) expect(requirementStatus(missing, { CI: ci }).mode, `CI=${ci}`).toBe('skip');
    expect(requirementStatus([{ ...absent('x'), alternative: 'set X' }], {}).reason).toBe("skipped: x is missing (install it with 'apt-get install pkg-absent', or set X)");
  });

  it('reads CI as .ci/run sets it', () => {
    expect(inCi({ CI: 'true' })).toBe(true);
    expect(inCi({})).toBe(false);
    expect(inCi({ CI: 'false' })).toBe(false);
  });
});

describe('.ci/run', () => {
  const script = readFileSync(path.join(import.meta.dirname, '..', '..', '.ci', 'run'), 'utf8');
  /** Packages .ci/run adds to its install list, each on a line that installs it only when missing (`… || need+=(pkg)`). */
  const installed = new Set(
    script.split('\n').flatMap((line) => {
      const m = /\|\|\s*need\+=\(([\w.+-]+)\)\s*$/.exec(line.trim());
      return m ? [m[1]!] : [];
    }),
  );

  it('installs, when missing, every package a test requirement names', () => {
    const all: Array<[string, Requirement]> = [...Object.entries(REQUIREMENTS), ['chromium', CHROMIUM]];
    for (const [name, r] of all) {
      for (const p of r.packages) expect(installed.has(p), `${name}: .ci/run does not install ${p}`).toBe(true);
    }
    expect(REQUIREMENTS.numpy.packages).toEqual(['python3-numpy']);
    expect(REQUIREMENTS.pil.packages).toEqual(['python3-pil']);
  });

  it('runs the tests with CI set, so a missing requirement fails them', () => {
    const ci = script.indexOf('export CI=true');
    expect(ci).toBeGreaterThan(0);
    expect(script.indexOf('npm test')).toBeGreaterThan(ci);
  });
});
