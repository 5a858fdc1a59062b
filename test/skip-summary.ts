/**
 * The line at the end of `npm test` that says which tests were skipped and why, grouped by the
 * reason the tests give: `(skipped: <reason>)` in a test's or a suite's name (test/helpers'
 * itRequires, describeRequires, describeUnless, itUnless) or a `ctx.skip(note)` note. Nothing is
 * printed when nothing was skipped. A vitest reporter (vitest.config.ts) over a pure function.
 */
import type { Reporter, TestCase, TestModule } from 'vitest/node';

/** A skipped test as the summary needs it. */
export interface SkippedTest {
  /** The test file, relative to the repository root. */
  readonly file: string;
  /** The names of its suites, outermost first, then its own name. */
  readonly names: readonly string[];
  /** The note of `ctx.skip(note)`, if any. */
  readonly note?: string | undefined;
}

/** How a name carries its reason: `<name> (skipped: <reason>)`, the reason may hold parentheses. */
const MARK = ' (skipped: ';

/** The reason a skipped test gives: its note, else the innermost `(skipped: …)` in its names; undefined when none. */
export function skipReason(test: SkippedTest): string | undefined {
  if (test.note) return test.note;
  for (let i = test.names.length - 1; i >= 0; i--) {
    const name = test.names[i]!;
    const at = name.indexOf(MARK);
    if (at >= 0 && name.endsWith(')')) return name.slice(at + MARK.length, -1);
  }
  return undefined;
}

/**
 * One line: `skipped N tests: K as <reason>; …`, the largest group first, tests that give no reason
 * last (with up to three of their files); undefined when `tests` is empty.
 */
export function skipSummary(tests: readonly SkippedTest[]): string | undefined {
  if (tests.length === 0) return undefined;
  const groups = new Map<string, number>();
  const unexplained = new Set<string>();
  let unexplainedCount = 0;
  for (const t of tests) {
    const reason = skipReason(t);
    if (reason === undefined) {
      unexplainedCount++;
      unexplained.add(t.file);
    } else {
      groups.set(reason, (groups.get(reason) ?? 0) + 1);
    }
  }
  const parts = [...groups].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([reason, n]) => `${n} as ${reason}`);
  if (unexplainedCount > 0) {
    const files = [...unexplained].sort();
    const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? `, … (${files.length} files)` : '');
    parts.push(`${unexplainedCount} with no reason given (${shown})`);
  }
  return `skipped ${tests.length} test${tests.length === 1 ? '' : 's'}: ${parts.join('; ')}`;
}

/** The suite names above a test, outermost first. */
function suiteNames(test: TestCase): string[] {
  const names: string[] = [];
  for (let p = test.parent; p.type === 'suite'; p = p.parent) names.unshift(p.name);
  return names;
}

/** Prints {@link skipSummary}'s line after vitest's own summary (listed after 'default' in vitest.config.ts). */
export class SkipSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: SkippedTest[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) {
        const result = test.result();
        skipped.push({
          file: module.relativeModuleId,
          names: [...suiteNames(test), test.name],
          note: result.state === 'skipped' ? result.note : undefined,
        });
      }
    }
    const line = skipSummary(skipped);
    if (line !== undefined) console.log(`\n${line}`);
  }
}
