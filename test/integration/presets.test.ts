/**
 * Every preset in configs/ resolves (known keys, right types, valid trainer sections) for every
 * trainer, says what it is for in its "$comment", and trains PGD-AT as the whole-image control of
 * its SCAAT run (the same attack and loss: differing only in the mask).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRun } from '../../src/cli/commands/train.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { pgdAtControlOptions, resolveScaatConfig } from '../../src/scaat/config.js';
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
