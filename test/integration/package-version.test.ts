/**
 * One reader of the package version (io/package-version.ts): the CLI commands and the metrics'
 * provenance report package.json's version, read here independently.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scaatVersion } from '../../src/io/package-version.js';
import { evaluate } from '../../src/metrics/evaluate.js';
import { arrayDataset } from '../../src/metrics/_testing.js';
import { saliencyMethods } from '../../src/saliency/registry.js';
import { tinyCnn } from '../../src/saliency/_testing.js';
import { useBackend } from '../helpers/index.js';
import { REPO_ROOT, runCli } from '../fixtures/cli.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

beforeAll(() => useBackend('cpu'));

describe('package version', () => {
  it("scaatVersion() is package.json's version", () => {
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(scaatVersion()).toBe(PACKAGE_VERSION);
  });

  it("evaluate() records it as provenance.scaatVersion", async () => {
    const ds = arrayDataset(new Float32Array(2 * 4 * 4).fill(0.5), Int32Array.from([0, 1]), [4, 4, 1], 2);
    const r = await evaluate(tinyCnn([4, 4, 1], 2, { seed: 1 }), ds, { methods: saliencyMethods(['vanilla-gradient']), metrics: ['clean-accuracy'] });
    expect(r.provenance.scaatVersion).toBe(PACKAGE_VERSION);
  });

  it('scaat --version prints it (exit 0)', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stdout.trim()).toBe(PACKAGE_VERSION);
    }
  });
});
