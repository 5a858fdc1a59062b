/**
 * The argument form the study scripts share (poster-table.ts, groups-table.ts): `DIR` or
 * `DIR::TEXT`, a sweep folder reported by `scaat report` (report/summary.json) and an optional
 * text that picks its groups. Exits 3, naming the file, when the folder has no report yet.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The folder, the text after `::`, the summary file's path (for the callers' own errors) and its contents. */
export function readReportSummary<T>(arg: string): { dir: string; text: string | undefined; file: string; summary: T } {
  const cut = arg.indexOf('::');
  const [dir, text] = cut >= 0 ? [arg.slice(0, cut), arg.slice(cut + 2)] : [arg, undefined];
  const file = path.join(dir, 'report', 'summary.json');
  if (!existsSync(file)) {
    console.error(`${file}: no report; run 'scaat report ${dir}' first`);
    process.exit(3);
  }
  return { dir, text, file, summary: JSON.parse(readFileSync(file, 'utf8')) as T };
}
