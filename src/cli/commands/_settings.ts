/**
 * CLI options from a config schema (io/config-schema.ts): each setting declared with a `flag` is
 * one commander option with the setting's description and its default (as the CLI writes it), so a
 * flag is declared once, in the schema; {@link settingsFrom} turns the parsed options back into the
 * schema's (nested) keys, for the schema to check. A command that takes only some of a schema's
 * settings (`scaat compare`, `scaat explain` of the evaluation's) names them in a
 * {@link SettingFlags}, with what it says differently: its own default ('64' images for compare),
 * a flag under another name, a description that fits the command.
 *
 *   addSettingOptions(cmd, EVALUATION_SCHEMA);                 // --batch-size <n> … (default: "32")
 *   const written = settingsFrom(cmd.opts(), EVALUATION_SCHEMA); // {batchSize: '64', aopc: {fraction: '0.2'}}
 *   addSettingOptions(cmd, EVALUATION_SCHEMA, 'value', { keys: ['limit', 'seed'], defaults: { limit: '64' } });
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

/** The settings of a schema a command takes as flags, and what the command says differently of them. */
export interface SettingFlags {
  /** The dotted keys taken, in the command's option order. @default every flagged setting, in the schema's order */
  readonly keys?: readonly string[];
  /** A key's flag under another name in this command: {metrics: '--eval-metrics <list>'}. */
  readonly flags?: Readonly<Record<string, string>>;
  /** The command's own default of a key, as the CLI writes it (help shows it; it replaces the schema's): {limit: '64'}. */
  readonly defaults?: Readonly<Record<string, string>>;
  /** The command's own default of a key in words, which the command fills in (no default value). */
  readonly defaultTexts?: Readonly<Record<string, string>>;
  /** A key's description in this command, where the schema's would be wrong for it. */
  readonly help?: Readonly<Record<string, string>>;
}

/** The settings of `schema` that `only` takes as flags (all flagged ones by default), with their commander options. */
function flagged(schema: z.ZodObject, defaultsIn: DefaultsIn = 'value', only: SettingFlags = {}): Array<{ entry: SettingEntry; option: Option }> {
  const all = settingsOf(schema);
  const entries = only.keys
    ? only.keys.map((key) => {
        const e = all.find((s) => s.key === key && s.info.flag);
        if (!e) throw new Error(`_settings: '${key}' is not a flagged setting of the schema`);
        return e;
      })
    : all.filter((e) => e.info.flag);
  return entries.map((entry) => {
    const key = entry.key;
    const own = only.defaults?.[key];
    const ownText = only.defaultTexts?.[key];
    const { description, written } = entry.info;
    const flag = only.flags?.[key] ?? entry.info.flag!;
    const help = only.help?.[key] ?? entry.info.help ?? description;
    // a command's own default replaces the schema's (value or words)
    const defaultText = own !== undefined ? undefined : (ownText ?? entry.info.defaultText);
    const defaultValue = ownText !== undefined ? undefined : (own ?? entry.defaultValue);
    // The default as the CLI writes it: help shows it, the schema reads it back.
    const asWritten = own ?? written ?? (typeof defaultValue === 'string' ? defaultValue : String(defaultValue));
    let text = help;
    if (defaultText !== undefined) text = help.includes(defaultText) ? help : `${help} (default: ${defaultText})`;
    else if (defaultsIn === 'text' && defaultValue !== undefined) text = `${help} (default ${asWritten})`;
    const option = new Option(flag, text);
    // a default in words (defaultText) is the schema's, or the command's, to fill in
    if (defaultsIn === 'value' && defaultText === undefined && defaultValue !== undefined) option.default(asWritten);
    return { entry, option };
  });
}

/** Adds one option per setting of `schema` that `only` takes (every flagged one by default) to `cmd`, in order. */
export function addSettingOptions(cmd: Command, schema: z.ZodObject, defaultsIn: DefaultsIn = 'value', only: SettingFlags = {}): Command {
  for (const { option } of flagged(schema, defaultsIn, only)) cmd.addOption(option);
  return cmd;
}

/**
 * The settings given in `opts` (commander's values) among those `only` takes, as the schema's
 * nested keys; a key not given gets the command's own default (`only.defaults`), if any.
 */
export function settingsFrom(opts: Readonly<Record<string, unknown>>, schema: z.ZodObject, only: SettingFlags = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { entry, option } of flagged(schema, 'value', only)) {
    const v = opts[option.attributeName()] ?? only.defaults?.[entry.key];
    if (v === undefined) continue;
    const path = entry.key.split('.');
    let node = out;
    for (const seg of path.slice(0, -1)) node = (node[seg] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = v;
  }
  return out;
}

/** The flag of each setting `only` takes, by dotted key ('aopc.fraction' → '--aopc-fraction'), for error messages. */
export function settingFlags(schema: z.ZodObject, only: SettingFlags = {}): ReadonlyMap<string, string> {
  return new Map(flagged(schema, 'value', only).map(({ entry, option }) => [entry.key, option.long!]));
}
