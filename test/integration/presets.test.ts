/**
 * Every preset in configs/ resolves (known keys, right types, valid trainer sections) for every
 * trainer, and says what it is for in its "$comment".
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_TRAINERS, resolveRun } from '../../src/cli/commands/train.js';
import { REPO_ROOT } from '../fixtures/cli.js';

const dir = path.join(REPO_ROOT, 'configs');
const presets = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe.each(presets)('configs/%s', (file) => {
  it.each([...CLI_TRAINERS.keys()])('resolves with --trainer %s', (trainer) => {
    const { config } = resolveRun({ config: path.join(dir, file), trainer, set: [], out: 'unused' });
    expect(config.trainer).toBe(trainer);
    expect(config.trainerOptions[trainer]).toBeDefined();
  });

  it('documents itself', () => {
    const json = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    expect(typeof json['$comment']).toBe('string');
  });
});
