// The end-of-run line: skipped tests grouped by the reason they give, from the names the skip
// helpers of test/helpers produce; and, through a real vitest run, the reporter that prints it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NATIVE_SWITCHED_OFF, nativeSkip, requirementStatus } from './helpers/index.js';
import type { Requirement } from './helpers/index.js';
import { skipReason, skipSummary } from './skip-summary.js';
import type { SkippedTest } from './skip-summary.js';

const absent = (what: string, packages: string[]): Requirement => ({ what, packages, present: () => false });

/** The name itRequires / describeRequires give a skipped test or suite. */
function requiring(name: string, ...missing: Requirement[]): string {
  const status = requirementStatus(missing, {});
  expect(status.mode).toBe('skip');
  return `${name} (${status.reason})`;
}

const NOT_BUILT = 'not built (no /x/scaat_native.node; it needs a C++ compiler and oneDNN, e.g. apt-get install libdnnl-dev, then npm run build:native)';
const native = nativeSkip({ ok: false, disabled: false, reason: NOT_BUILT }, {})!;

describe('skipReason', () => {
  it('reads the reason of the innermost name that gives one, parentheses and all, or the ctx.skip note', () => {
    const numpy = absent('numpy for /usr/bin/python3', ['python3-numpy']);
    expect(skipReason({ file: 'a.test.ts', names: ['npy', requiring('round-trips with NumPy', numpy)] }))
      .toBe("numpy for /usr/bin/python3 is missing (install it with 'apt-get install python3-numpy')");
    expect(skipReason({ file: 'a.test.ts', names: [`kernels (skipped: ${native})`, 'inner', 'conv2d (3x3, stride 2)'] }))
      .toBe(`the native accelerator is off: ${NOT_BUILT}`);
    expect(skipReason({ file: 'a.test.ts', names: ['outer (skipped: a)', 'inner (skipped: b)', 't'] })).toBe('b');
    expect(skipReason({ file: 'a.test.ts', names: ['t'], note: 'from ctx.skip' })).toBe('from ctx.skip');
    expect(skipReason({ file: 'a.test.ts', names: ['conv2d (3x3, stride 2)', 'skipped: not at the end (x) y'] })).toBeUndefined();
  });

  it('the native reasons: off when not built (outside CI), switched off by SCAAT_NATIVE=0, none when loaded or under CI', () => {
    expect(native).toBe(`the native accelerator is off: ${NOT_BUILT}`);
    expect(nativeSkip({ ok: false, disabled: false, reason: NOT_BUILT }, { CI: 'true' })).toBeUndefined();
    expect(NATIVE_SWITCHED_OFF).toMatch(/SCAAT_NATIVE=0/);
  });
});

describe('skipSummary', () => {
  it('prints nothing when nothing was skipped', () => {
    expect(skipSummary([])).toBeUndefined();
  });

  it('counts each group, the largest first, the unexplained last with their files', () => {
    const chromium = absent('/usr/bin/chromium', ['chromium']);
    const tests: SkippedTest[] = [
      ...Array.from({ length: 3 }, (_, i) => ({ file: 'src/engine/native/kernels.test.ts', names: [`k (skipped: ${native})`, `t${i}`] })),
      { file: 'src/engine/native/index.test.ts', names: [`r (skipped: ${native})`, 'u'] },
      ...Array.from({ length: 2 }, (_, i) => ({ file: 'test/integration/report-web.test.ts', names: [requiring('browser page', chromium), `p${i}`] })),
      { file: 'z.test.ts', names: ['plain it.skip'] },
      { file: 'y.test.ts', names: ['suite', 'plain describe.skip'] },
    ];
    expect(skipSummary(tests)).toBe(
      `skipped 8 tests: 4 as the native accelerator is off: ${NOT_BUILT}; ` +
        "2 as /usr/bin/chromium is missing (install it with 'apt-get install chromium'); " +
        '2 with no reason given (y.test.ts, z.test.ts)',
    );
    expect(skipSummary([{ file: 'a.test.ts', names: ['t (skipped: why)'] }])).toBe('skipped 1 test: 1 as why');
    const many = ['a', 'b', 'c', 'd'].map((f) => ({ file: `${f}.test.ts`, names: ['t'] }));
    expect(skipSummary(many)).toBe('skipped 4 tests: 4 with no reason given (a.test.ts, b.test.ts, c.test.ts, … (4 files))');
  });
});

describe('SkipSummaryReporter in a vitest run', () => {
  it('prints the line after the summary, and nothing when nothing is skipped', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-skips-'));
    try {
      const root = path.resolve(import.meta.dirname, '..');
      symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
      const config = path.join(dir, 'vitest.config.ts');
      writeFileSync(config, [
        "import { defineConfig } from 'vitest/config';",
        `import { SkipSummaryReporter } from ${JSON.stringify(path.join(import.meta.dirname, 'skip-summary.ts'))};`,
        "export default defineConfig({ test: { include: ['*.test.ts'], reporters: ['default', new SkipSummaryReporter()] } });",
      ].join('\n'));
      writeFileSync(path.join(dir, 'a.test.ts'), [
        "import { describe, it } from 'vitest';",
        "describe.skip('suite (skipped: no widget here)', () => { it('one', () => {}); it('two', () => {}); });",
        "it.skip('three', () => {});",
        "it('runs', () => {});",
        "it('noted', (ctx) => ctx.skip('a note'));",
      ].join('\n'));
      writeFileSync(path.join(dir, 'b.test.ts'), "import { it } from 'vitest';\nit('runs', () => {});\n");
      const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
      const run = (...files: string[]) => execFileSync(process.execPath, [vitest, 'run', '--config', config, '--root', dir, ...files], {
        cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '', NO_COLOR: '1', FORCE_COLOR: '0' },
      });
      const lines = run().trimEnd().split('\n');
      expect(lines.at(-1)).toBe('skipped 4 tests: 2 as no widget here; 1 as a note; 1 with no reason given (a.test.ts)');
      expect(run('b.test.ts')).not.toMatch(/skipped/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
