/**
 * bin/scaat.js, the CLI entry: it runs dist/cli/main.js and passes its exit code on; in a
 * development checkout (src/ next to dist/) it names a source file changed after the last build,
 * so a stale dist/ is not run silently. Checked on a scratch copy of the entry with a stub build.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-bin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A package folder with the real entry, a stub dist/cli/main.js built at t = 1000 s, and `sources` (path → mtime s). */
function scratch(name: string, sources: Record<string, number>): string {
  const root = path.join(tmp, name);
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  mkdirSync(path.join(root, 'dist', 'cli'), { recursive: true });
  copyFileSync(path.join(REPO_ROOT, 'bin', 'scaat.js'), path.join(root, 'bin', 'scaat.js'));
  const main = path.join(root, 'dist', 'cli', 'main.js');
  writeFileSync(main, "export async function main(argv) { process.stdout.write('stub ' + argv.join(' ')); return 3; }\n");
  utimesSync(main, 1000, 1000);
  for (const [rel, mtime] of Object.entries(sources)) {
    const file = path.join(root, 'src', rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'export {};\n');
    utimesSync(file, mtime, mtime);
  }
  return root;
}

const run = (root: string) => spawnSync(process.execPath, [path.join(root, 'bin', 'scaat.js'), 'train', '--x'], { encoding: 'utf8' });

describe('bin/scaat.js', () => {
  it('runs the build with the arguments and passes its exit code on', () => {
    const r = run(scratch('installed', {}));
    expect(r.stdout).toBe('stub train --x');
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('');
  });

  it('names the newest source changed after the last build, and still runs the build', () => {
    const r = run(scratch('stale', { 'a.ts': 900, 'scaat/step.ts': 1200, 'metrics/aopc.ts': 1100 }));
    expect(r.stderr).toContain('scaat: warning: src/scaat/step.ts changed after the last build (dist/), which runs as built.');
    expect(r.stdout).toBe('stub train --x');
    expect(r.status).toBe(3);
  });

  it('says nothing when every source is older than the build, or only tests changed', () => {
    const r = run(scratch('fresh', { 'a.ts': 900, 'scaat/step.test.ts': 1200, 'notes.md': 1300 }));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
  });
});
