/**
 * Exit codes (src/cli/main.ts): 2 = bad usage (unknown command/option, invalid value, ConfigError),
 * 3 = bad input (missing or malformed files: DataError/ShapeError), and a message that names the
 * file or option without a stack trace.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../fixtures/cli.js';
import { THREE_RUNS_JSON, threeRunsJson } from '../fixtures/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bad usage → 2', () => {
  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['report', THREE_RUNS_JSON, '--bogus'], /unknown option '--bogus'/],
    [['report'], /missing required argument 'runs'/],
    [['compare', THREE_RUNS_JSON, '--format', 'xml'], /argument 'xml' is invalid.*text, markdown, json/],
  ])('scaat %j', async (argv, message) => {
    const r = await runCli(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('bad input → 3', () => {
  it('a missing results file, named', async () => {
    const missing = path.join(dir, 'nope.json');
    const r = await runCli(['report', missing, '--out', path.join(dir, 'out1')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`DataError: ${missing}: no such file or folder`);
    expect(existsSync(path.join(dir, 'out1'))).toBe(false);
  });

  it('a file that is not JSON, named', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"schemaVersion": 1, "runs": [');
    const r = await runCli(['compare', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
  });

  it('a results file with a wrong type: the key path, expected and found', async () => {
    const j = threeRunsJson() as { runs: Record<string, unknown>[] };
    j.runs[2]!['seed'] = 'one';
    const bad = path.join(dir, 'wrong-type.json');
    writeFileSync(bad, JSON.stringify(j));
    const r = await runCli(['report', bad, '--out', path.join(dir, 'out2')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('runs[2].seed: expected number, got string');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(path.join(dir, 'out2', 'report.html'))).toBe(false);
  });

  it('is the status a real process exits with', () => {
    const r = spawnCli(['report', path.join(dir, 'nope.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^scaat: DataError: .*nope\.json: no such file or folder/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
