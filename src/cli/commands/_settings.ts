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

/** The settings of `schema` that have a CLI flag, with their commander options. */
function flagged(schema: z.ZodObject): Array<{ entry: SettingEntry; option: Option }> {
  return settingsOf(schema).flatMap((entry) => {
    const { flag, description, defaultText, written } = entry.info;
    if (!flag) return [];
    const option = new Option(flag, defaultText !== undefined && !description.includes(defaultText) ? `${description} (default: ${defaultText})` : description);
    // A default value goes to commander as the CLI writes it (help shows it, the schema reads it back);
    // a default in words (defaultText) is the schema's to fill in.
    if (defaultText === undefined && entry.defaultValue !== undefined) option.default(written ?? String(entry.defaultValue));
    return [{ entry, option }];
  });
}

/** Adds one option per flagged setting of `schema` to `cmd`, in the schema's order. */
export function addSettingOptions(cmd: Command, schema: z.ZodObject): Command {
  for (const { option } of flagged(schema)) cmd.addOption(option);
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
