/**
 * CLI options from a config schema (io/config-schema.ts): each setting declared with a `flag` is
 * one commander option with the setting's description and its default (as the CLI writes it), so a
 * flag is declared once, in the schema; {@link settingsFrom} turns the parsed options back into the
 * schema's (nested) keys, for the schema to check.
 *
 *   addSettingOptions(cmd, EVALUATION_SCHEMA);                 // --batch-size <n> … (default: "32")
 *   const written = settingsFrom(cmd.opts(), EVALUATION_SCHEMA); // {batchSize: '64', aopc: {fraction: '0.2'}}
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { z } from 'zod';
import { settingsOf } from '../../io/config-schema.js';
import type { SettingEntry } from '../../io/config-schema.js';

/**
 * Where an option's default goes: to commander ('value': the option gets it when not given, help
 * shows it as `(default: "…")`), or only into the description ('text': `(default …)`, for flags that
 * are one layer of a config over others, e.g. a preset file, which a default must not override).
 */
export type DefaultsIn = 'value' | 'text';

/** The settings of `schema` that have a CLI flag, with their commander options. */
function flagged(schema: z.ZodObject, defaultsIn: DefaultsIn = 'value'): Array<{ entry: SettingEntry; option: Option }> {
  return settingsOf(schema).flatMap((entry) => {
    const { flag, description, help = description, defaultText, written } = entry.info;
    if (!flag) return [];
    // The default as the CLI writes it: help shows it, the schema reads it back.
    const asWritten = written ?? (typeof entry.defaultValue === 'string' ? entry.defaultValue : String(entry.defaultValue));
    let text = help;
    if (defaultText !== undefined) text = help.includes(defaultText) ? help : `${help} (default: ${defaultText})`;
    else if (defaultsIn === 'text' && entry.defaultValue !== undefined) text = `${help} (default ${asWritten})`;
    const option = new Option(flag, text);
    // a default in words (defaultText) is the schema's to fill in
    if (defaultsIn === 'value' && defaultText === undefined && entry.defaultValue !== undefined) option.default(asWritten);
    return [{ entry, option }];
  });
}

/** Adds one option per flagged setting of `schema` to `cmd`, in the schema's order. */
export function addSettingOptions(cmd: Command, schema: z.ZodObject, defaultsIn: DefaultsIn = 'value'): Command {
  for (const { option } of flagged(schema, defaultsIn)) cmd.addOption(option);
  return cmd;
}

/** The flagged settings given in `opts` (commander's values), as the schema's nested keys. */
export function settingsFrom(opts: Readonly<Record<string, unknown>>, schema: z.ZodObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { entry, option } of flagged(schema)) {
    const v = opts[option.attributeName()];
    if (v === undefined) continue;
    const path = entry.key.split('.');
    let node = out;
    for (const seg of path.slice(0, -1)) node = (node[seg] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = v;
  }
  return out;
}
