/**
 * A 0.1 package has one name per thing (issue 15.3): the trainer registries are named for what
 * they hold (BASELINE_TRAINERS: no 'scaat'; ALL_TRAINERS: every trainer, the CLI's too), and the
 * removed aliases (CLI_TRAINERS, TRAINERS, ATTACK_ALIASES, canonicalAttackName,
 * writeIrrelevantRatios) are gone from the public API and the CLI modules.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import * as trainCommand from '../../src/cli/commands/train.js';
import { ConfigError } from '../../src/errors.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/loop.js';
import { BASELINE_TRAINERS } from '../../src/train/registry.js';
import { blobsDataset } from '../../src/train/_testing.js';

describe('one name per thing', () => {
  it('BASELINE_TRAINERS holds the baselines, ALL_TRAINERS adds SCAAT; both are public', () => {
    expect([...BASELINE_TRAINERS.keys()]).toEqual(['regular', 'pgd-at', 'sgt']);
    expect([...ALL_TRAINERS.keys()]).toEqual(['regular', 'pgd-at', 'sgt', 'scaat']);
    for (const name of BASELINE_TRAINERS.keys()) expect(ALL_TRAINERS.get(name)).toBe(BASELINE_TRAINERS.get(name));
    expect(api.BASELINE_TRAINERS).toBe(BASELINE_TRAINERS);
    expect(api.ALL_TRAINERS).toBe(ALL_TRAINERS);
  });

  it('the removed aliases are exported nowhere', () => {
    for (const name of ['CLI_TRAINERS', 'TRAINERS', 'ATTACK_ALIASES', 'canonicalAttackName', 'writeIrrelevantRatios']) {
      expect(Object.keys(api), name).not.toContain(name);
      expect(Object.keys(trainCommand), name).not.toContain(name);
    }
  });

  it("train() with the default registry (the baselines) refuses 'scaat', listing the baselines, writing nothing", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-no-aliases-'));
    try {
      const runDir = path.join(dir, 'run');
      const config = resolveConfig([{ source: 'test', values: { trainer: 'scaat', epochs: 1 } }]);
      const run = train({ config, data: { train: blobsDataset({ size: 8 }) }, runDir });
      await expect(run).rejects.toThrow(ConfigError);
      await expect(train({ config, data: { train: blobsDataset({ size: 8 }) }, runDir })).rejects.toThrow(/unknown 'scaat'; expected one of regular, pgd-at, sgt$/);
      expect(existsSync(runDir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
