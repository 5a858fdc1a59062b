// The benchmarks' command lines (bench/run.ts, its suites, bench/profile.ts) answer a bad flag as
// the scripts do (scripts/_args.ts): the script's name, what was wrong and its usage on stderr,
// exit 2, no stack trace; a script suite's failure is the harness's exit status.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures/cli.js';

function bench(file: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bench command lines', () => {
  it("name a bad flag of the harness, of a suite and of a script suite with the usage (exit 2), no stack; --help exits 0", () => {
    const harness = bench('bench/run.ts', '--bogus');
    expect(harness.status).toBe(2);
    expect(harness.stderr).toMatch(/^run\.ts: Unknown option '--bogus'\nusage: npm run bench -- \[--suite /);
    const suite = bench('bench/run.ts', '--suite', 'engine', '--', '--networks');
    expect(suite.status).toBe(2);
    expect(suite.stderr).toMatch(/^run\.ts: Option '--networks <value>' argument missing\nusage: npm run bench -- --suite engine /);
    const script = bench('bench/run.ts', '--suite', 'kernels', '--', '--bogus');
    expect(script.status).toBe(2);
    expect(script.stderr).toMatch(/^kernels\.ts: Unknown option '--bogus'\nusage: npx tsx bench\/suites\/kernels\.ts /);
    const profile = bench('bench/profile.ts', '--reps');
    expect(profile.status).toBe(2);
    expect(profile.stderr).toContain("profile.ts: Option '--reps <value>' argument missing");
    for (const r of [harness, suite, script, profile]) expect(r.stderr).not.toMatch(/\n\s+at /);
    const help = bench('bench/run.ts', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run bench -- /);
  }, 120_000);
});
