/**
 * `scaat --help` lists every command of the issue, and every option that has a default shows it
 * in its command's help (so `scaat <command> --help` is the whole reference).
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { runCli, spawnCli } from '../fixtures/cli.js';
import { SCAAT_CONFIG_SCHEMA } from '../../src/scaat/config.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';

/** The verbs the issue asks for (`data` holds `data inspect`). */
const COMMANDS = ['train', 'explain', 'evaluate', 'compare', 'report', 'data', 'demo', 'sweep'];

function allCommands(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...prefix, c.name()], cmd: c }, ...allCommands(c, [...prefix, c.name()])]);
}

describe('scaat --help', () => {
  it('lists every command with a description', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const name of COMMANDS) expect(stdout, `'${name}' in scaat --help`).toMatch(new RegExp(`^\\s+${name}\\b.*\\S`, 'm'));
  });

  it("has 'data inspect'", () => {
    const data = buildProgram().commands.find((c) => c.name() === 'data');
    expect(data?.commands.map((c) => c.name())).toContain('inspect');
  });

  it('shows the default of every option that has one', () => {
    const missing: string[] = [];
    for (const { path, cmd } of allCommands(buildProgram())) {
      const help = cmd.createHelp();
      for (const opt of cmd.options) {
        if (opt.defaultValue === undefined || opt.negate) continue;
        // The text `scaat <command> --help` prints for this option.
        if (!/\bdefault: /.test(help.optionDescription(opt))) missing.push(`scaat ${path.join(' ')} ${opt.flags}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("'scaat evaluate --help' states the AOPC regime (10 % of the image) in one line", async () => {
    const { code, stdout } = await runCli(['evaluate', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--aopc-fraction');
    const evaluate = buildProgram().commands.find((c) => c.name() === 'evaluate')!;
    const describe = (flag: string): string => evaluate.createHelp().optionDescription(evaluate.options.find((o) => o.long === flag)!);
    expect(describe('--aopc-fraction')).toMatch(/fraction of the image.*Samek.*whole-image.*default: "0\.1"/);
    expect(describe('--alpha')).toMatch(/default 2\.5·epsilon\/attack-steps/);
  });

  /** `train --help-config`'s lines under a trainer's heading: option → its line. */
  const trainerSection = (stdout: string, trainer: string): Map<string, string> => {
    const lines = stdout.split('\n');
    const start = lines.findIndex((l) => new RegExp(`^  ${trainer}\\s`).test(l));
    const section = new Map<string, string>();
    for (const l of lines.slice(start + 1)) {
      const m = /^ {4}(\S+)\s/.exec(l);
      if (!m) break;
      section.set(m[1]!, l);
    }
    return section;
  };

  it("'train --help-config' lists SCAAT's options with their defaults, the ratio search's included", async () => {
    const { code, stdout } = await runCli(['train', '--help-config']);
    expect(code).toBe(0);
    const scaat = trainerSection(stdout, 'scaat');
    expect([...scaat.keys()]).toEqual(Object.keys(SCAAT_CONFIG_SCHEMA.shape));
    for (const [key, value] of [['ratioSearch', '"ramp"'], ['ratioStep', '0.02'], ['ratioInit', '0.5'], ['warmupEpochs', '2'], ['epsilon', String(8 / 255)]]) {
      expect(scaat.get(key!)).toMatch(new RegExp(`\\(default ${value!.replace('.', '\\.')}\\)$`));
    }
  });

  it("'train --help-config' shows validBox for SCAAT and its PGD-AT control, every option of every trainer with its default", async () => {
    const { code, stdout } = await runCli(['train', '--help-config']);
    expect(code).toBe(0);
    for (const trainer of ['scaat', 'pgd-at']) expect(trainerSection(stdout, trainer).get('validBox')).toMatch(/ \(default "project"\)$/);
    for (const [name, spec] of ALL_TRAINERS) {
      const section = trainerSection(stdout, name);
      const defaults = spec.options.parse({}) as Record<string, unknown>;
      expect([...section.keys()], name).toEqual(Object.keys(defaults));
      for (const [key, value] of Object.entries(defaults)) expect(section.get(key)!.endsWith(`(default ${JSON.stringify(value)})`), `${name}.${key}`).toBe(true);
    }
    expect(stdout).toMatch(/^ {2}regular {2}.*; no options$/m);
  });

  it('exits 0 with the usage from a real process', () => {
    const r = spawnCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: scaat/m);
    for (const name of COMMANDS) expect(r.stdout).toContain(name);
  });
});
