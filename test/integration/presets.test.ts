/**
 * Every preset in configs/ resolves (known keys, right types, valid trainer sections) for every
 * trainer, says what it is for in its "$comment", and trains PGD-AT as the whole-image control of
 * its SCAAT run (the same attack and loss: differing only in the mask). The presets of the two data
 * kinds (docs/results.md, "Defaults") are the settings the study measured: the same runs as their
 * grids' SCAAT and control cells.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRun } from '../../src/cli/commands/train.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { pgdAtControlOptions, resolveScaatConfig } from '../../src/scaat/config.js';
import { expandGrid, readGrid } from '../../src/sweep/grid.js';
import { configDifferences } from '../../src/sweep/reuse.js';
import { REPO_ROOT } from '../fixtures/cli.js';

const dir = path.join(REPO_ROOT, 'configs');
const presets = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe.each(presets)('configs/%s', (file) => {
  it.each([...ALL_TRAINERS.keys()])('resolves with --trainer %s', (trainer) => {
    const { config } = resolveRun({ config: path.join(dir, file), trainer, set: [], out: 'unused' });
    expect(config.trainer).toBe(trainer);
    expect(config.trainerOptions[trainer]).toBeDefined();
  });

  it("trains pgd-at as SCAAT's whole-image control: same attack, ε, α, steps, valid box, loss and λ; same run otherwise", () => {
    const run = (trainer: string) => resolveRun({ config: path.join(dir, file), trainer, set: [], out: 'unused' }).config;
    const [scaat, control] = [run('scaat'), run('pgd-at')];
    expect(control.trainerOptions['pgd-at']).toEqual(pgdAtControlOptions(resolveScaatConfig(scaat.trainerOptions['scaat'])));
    const rest = ({ trainer: _t, trainerOptions: _o, ...others }: typeof scaat) => others;
    expect(rest(control)).toEqual(rest(scaat));
  });

  it('documents itself', () => {
    const json = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    expect(typeof json['$comment']).toBe('string');
  });
});

// Keys that do not enter training: where the data is read from, how many test images are evaluated
// after each epoch (a sample drawn with its own seed), how often a checkpoint is written.
const NOT_TRAINING = new Set(['data', 'evalLimit', 'checkpointEvery']);

describe.each([
  ['mnist-small-cnn.json', 'mnist-headline.json', /^trainer=(scaat|pgd-at)__seed=0$/],
  ['cifar10-small-cnn.json', 'cifar10-eps16.json', /^seed=0__trainer=(scaat|pgd-at)__epochs=8__attack=pgd$/],
] as const)('configs/%s', (preset, grid, cells) => {
  it(`is the setting studies/${grid} measured: the same run as its SCAAT and control cells`, () => {
    const chosen = expandGrid(readGrid(path.join(REPO_ROOT, 'studies', grid), ALL_TRAINERS), { out: 'unused', trainers: ALL_TRAINERS }).filter((c) => cells.test(c.name));
    expect(chosen.map((c) => c.config.trainer).sort()).toEqual(['pgd-at', 'scaat']);
    for (const cell of chosen) {
      const { config } = resolveRun({ config: path.join(dir, preset), trainer: cell.config.trainer, set: [], out: 'unused' });
      expect(configDifferences(config, cell.config, NOT_TRAINING), cell.name).toEqual([]);
    }
  });
});
