/**
 * The method is documented inside the package (docs/method.md), and nothing a user gets points
 * outside it: no file of the package refers to the team's ../shared folder (its one exception is
 * the cifar10-jpg folder that datasets/registry.ts looks for beside a checkout), every relative
 * Markdown link of the docs resolves to a file of the repository (and an in-page anchor to a
 * heading), every "method.md §N" names a section docs/method.md has, every config key has a
 * table row there with the code's default, package.json ships the page, and `scaat --help` names it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../src/metrics/registry.js';
import { SALIENCY } from '../../src/saliency/registry.js';
import { DEFAULT_SCAAT_CONFIG } from '../../src/scaat/config.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/train/config.js';
import { PGD_AT_DEFAULTS } from '../../src/train/pgd-at.js';
import { SGT_DEFAULTS } from '../../src/train/sgt.js';
import { REPO_ROOT, runCli } from '../fixtures/cli.js';

const METHOD_DOC = 'docs/method.md';

/** What the package and its readers get: the package's files (src for dist), docs, examples, the web page. */
const PACKAGE_PATHS = [
  'README.md', 'ARCHITECTURE.md', 'package.json', 'docs', 'src', 'configs', 'bin', 'scripts', 'native/src', 'native/binding.gyp',
  'examples', 'web',
];
const TEXT_EXTENSIONS = new Set(['.ts', '.js', '.mjs', '.cjs', '.md', '.json', '.html', '.css', '.h', '.cc', '.gyp', '.txt']);
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build']);

function textFiles(rel: string): string[] {
  const abs = path.join(REPO_ROOT, rel);
  if (!existsSync(abs)) return [];
  if (statSync(abs).isFile()) return TEXT_EXTENSIONS.has(path.extname(rel)) ? [rel] : [];
  return readdirSync(abs, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (SKIPPED_DIRS.has(e.name) ? [] : textFiles(path.join(rel, e.name))) : textFiles(path.join(rel, e.name)),
  );
}

const FILES = PACKAGE_PATHS.flatMap(textFiles);
const read = (rel: string): string => readFileSync(path.join(REPO_ROOT, rel), 'utf8');

/** "file:line: text" of every line of the package matching `re`. */
function linesMatching(re: RegExp): string[] {
  return FILES.flatMap((f) =>
    read(f)
      .split('\n')
      .flatMap((line, i) => (re.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
  );
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces → '-'. */
function slug(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

/** A documented default as written in the doc (`'pgd'`, `8/255`, `true`, `[]`, `5e-4`), or undefined. */
function docValue(token: string | undefined): unknown {
  if (token === undefined) return undefined;
  if (/^'.*'$/.test(token)) return token.slice(1, -1);
  if (token === 'true' || token === 'false') return token === 'true';
  if (token === '[]') return [];
  if (token === '{}') return {};
  const frac = /^(\d+)\/(\d+)$/.exec(token);
  if (frac) return Number(frac[1]) / Number(frac[2]);
  return token !== '' && Number.isFinite(Number(token)) ? Number(token) : undefined;
}

/** The code's defaults, by the key path a user types (`trainerOptions.scaat.epsilon`, `lr`). */
const DEFAULTS = new Map<string, unknown>([
  ...Object.entries(DEFAULT_SCAAT_CONFIG).map(([k, v]) => [`trainerOptions.scaat.${k}`, v] as const),
  ...Object.entries(PGD_AT_DEFAULTS).map(([k, v]) => [`trainerOptions.pgd-at.${k}`, v] as const),
  ...Object.entries(SGT_DEFAULTS).map(([k, v]) => [`trainerOptions.sgt.${k}`, v] as const),
  ...Object.entries(DEFAULT_TRAIN_CONFIG),
]);

function headings(markdown: string): string[] {
  return [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!.trim());
}

describe('the method documented inside the package', () => {
  it('is a file of the repository, shipped by package.json "files"', () => {
    expect(existsSync(path.join(REPO_ROOT, METHOD_DOC))).toBe(true);
    const files = (JSON.parse(read('package.json')) as { files: string[] }).files;
    expect(files.some((f) => f === METHOD_DOC || f === 'docs' || f === 'docs/')).toBe(true);
  });

  it("no file of the package refers to the team's ../shared folder (beyond the cifar10-jpg fallback)", () => {
    expect(FILES.length).toBeGreaterThan(100); // the walk found the package
    // ../shared/data/ is where datasets/registry.ts looks for cifar10-jpg beside a checkout (behaviour, documented there)
    expect(linesMatching(/(?:\.\.\/)+shared\/(?!data\/)|shared\/(?:docs|seeds)\b/)).toEqual([]);
  });

  it('every relative Markdown link of README, ARCHITECTURE and docs/ resolves inside the repository', () => {
    const docs = FILES.filter((f) => f.endsWith('.md') && !f.startsWith('src') && !f.startsWith('examples') && !f.startsWith('web'));
    expect(docs).toEqual(expect.arrayContaining(['README.md', 'ARCHITECTURE.md', METHOD_DOC]));
    const broken: string[] = [];
    for (const doc of docs) {
      const text = read(doc);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue; // https:, mailto:
        const [file, anchor] = target!.split('#') as [string, string | undefined];
        const resolved = file === '' ? doc : path.normalize(path.join(path.dirname(doc), file));
        if (resolved.startsWith('..') || path.isAbsolute(resolved) || !existsSync(path.join(REPO_ROOT, resolved))) {
          broken.push(`${doc}: ${target} (not a file of the repository)`);
        } else if (anchor !== undefined && resolved.endsWith('.md') && !headings(read(resolved)).map(slug).includes(anchor)) {
          broken.push(`${doc}: ${target} (no such heading in ${resolved})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('every "method.md §N" in the package names a section of docs/method.md', () => {
    const sections = new Set(headings(read(METHOD_DOC)).flatMap((h) => /^(\d+(?:\.\d+)*)\.?\s/.exec(h)?.[1] ?? []));
    // §1–§5 keep the numbering the code's comments were written against
    for (const s of ['1', '2', '2.1', '2.2', '2.3', '2.4', '2.5', '3', '4', '5']) expect(sections, `§${s}`).toContain(s);
    const dangling = FILES.flatMap((f) =>
      [...read(f).matchAll(/method\.md[\s*]*§(\d+(?:\.\d+)*)/g)].flatMap((m) => (sections.has(m[1]!) ? [] : [`${f}: §${m[1]}`])),
    );
    expect(dangling).toEqual([]);
  });

  it('states every config key in a table row with the default the code has, and names every method and metric', () => {
    const doc = read(METHOD_DOC);
    // rows "| `key`[, `key`…] | `default`[, `default`…] | meaning |": the n-th key's default is the n-th value
    const documented = new Map<string, unknown[]>();
    for (const line of doc.split('\n')) {
      if (!line.startsWith('| `')) continue;
      const [keys, values] = line.slice(2).split(' | ').map((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
      keys!.forEach((key, i) => {
        if (DEFAULTS.has(key)) documented.set(key, [...(documented.get(key) ?? []), docValue(values?.[i])]);
      });
    }
    const wrong: string[] = [];
    for (const [key, value] of DEFAULTS) {
      const rows = documented.get(key) ?? [];
      if (rows.length === 0) wrong.push(`${key}: no table row`);
      for (const v of rows) if (JSON.stringify(v) !== JSON.stringify(value)) wrong.push(`${key}: documented ${JSON.stringify(v)}, code ${JSON.stringify(value)}`);
    }
    expect(wrong).toEqual([]);
    for (const name of [...SALIENCY.keys(), ...METRICS.keys()]) expect(doc, name).toContain(`\`${name}\``);
  });

  it("'scaat --help', 'scaat train --help' and 'scaat evaluate --help' point to docs/method.md", async () => {
    for (const argv of [['--help'], ['train', '--help'], ['evaluate', '--help']]) {
      const { code, stdout } = await runCli(argv);
      expect(code).toBe(0);
      expect(stdout, `scaat ${argv.join(' ')}`).toContain(METHOD_DOC);
    }
  });
});
