/**
 * ARCHITECTURE.md is the map of the code (one line per file): every source file is listed under
 * its room (a section whose heading names its folder, or by its full path), every file it lists
 * exists, and no two rooms of src/ have a source file of the same name (beyond the per-room names
 * and the CLI's verbs), so a name says which file it is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures/cli.js';

const ARCH = readFileSync(path.join(REPO_ROOT, 'ARCHITECTURE.md'), 'utf8');
const FILES = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'src', 'bench', 'web', 'scripts', 'test', 'examples', 'native', 'configs', 'studies'], { cwd: REPO_ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && !f.startsWith('native/build/') && !f.startsWith('web/dist/') && existsSync(path.join(REPO_ROOT, f)));
const SOURCES = FILES.filter((f) => /\.(ts|mjs)$/.test(f) && !f.startsWith('test/fixtures/results/'));
/** Names every room may have; the CLI's verbs are named as their commands. */
const PER_ROOM = new Set(['index.ts', 'registry.ts', 'types.ts', 'config.ts', '_testing.ts']);

/** `a/{b,c}.h` → a/b.h, a/c.h */
function expandBraces(token: string): string[] {
  const m = /^(.*)\{([^}]*)\}(.*)$/.exec(token);
  return m ? m[2]!.split(',').flatMap((alt) => expandBraces(`${m[1]}${alt}${m[3]}`)) : [token];
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
}

/** Per bullet line: the section's folders and the file-like tokens in backticks (the first one is the line's key). */
function bullets(): Array<{ line: string; dirs: string[]; tokens: string[] }> {
  const out: Array<{ line: string; dirs: string[]; tokens: string[] }> = [];
  let dirs = [''];
  for (const line of ARCH.split('\n')) {
    if (line.startsWith('## ')) {
      dirs = [...line.matchAll(/\b((?:src|bench|test|web|scripts|examples|native|docs|studies|configs)(?:\/[\w.-]+)*\/)/g)].map((m) => m[1]!);
      continue;
    }
    if (!line.startsWith('- `')) continue;
    const tokens = [...line.matchAll(/`([^`\s]+\.(?:ts|mjs|json|h|cc|gyp|py|html|\{[\w,]+\}))`/g)].flatMap((m) => expandBraces(m[1]!));
    out.push({ line, dirs: [...dirs, ''], tokens });
  }
  return out;
}

function matches(dirs: readonly string[], token: string, file: string): boolean {
  return dirs.some((d) => (token.includes('*') ? globToRegExp(d + token).test(file) : d + token === file));
}

describe('ARCHITECTURE.md', () => {
  const lines = bullets();

  it('lists every source file under its room', () => {
    const unlisted = SOURCES.filter((f) => !lines.some(({ dirs, tokens }) => tokens.some((t) => matches(dirs, t, f))));
    expect(unlisted).toEqual([]);
  });

  it('lists only files that exist (each line names its file by the section\'s folder)', () => {
    const stale = lines
      .filter(({ tokens }) => tokens.length > 0)
      .filter(({ dirs, tokens }) => !FILES.some((f) => matches(dirs, tokens[0]!, f)))
      .map(({ line }) => line.slice(0, 80));
    expect(stale).toEqual([]);
  });

  it('names the io room in the dependency chain', () => {
    const chain = /```\n([\s\S]*?)```/.exec(ARCH)![1]!;
    expect(chain).toMatch(/errors\s+←\s+io, engine\s+←/);
    expect(chain).toMatch(/errors, io\s+←\s+report\s+←\s+cli/);
  });

  it('no two rooms of src/ have a file of the same name (per-room names and CLI verbs aside)', () => {
    const byName = new Map<string, string[]>();
    for (const f of SOURCES.filter((s) => s.startsWith('src/') && !s.startsWith('src/cli/commands/') && !s.endsWith('.test.ts'))) {
      const name = path.basename(f);
      if (PER_ROOM.has(name)) continue;
      byName.set(name, [...(byName.get(name) ?? []), f]);
    }
    expect([...byName].filter(([, fs]) => fs.length > 1)).toEqual([]);
  });
});
