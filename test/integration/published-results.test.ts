// The published tables are what the committed results make: for every grid whose cells are kept in
// studies/results/<grid>/ (scaat sweep --results) and whose report is published in
// docs/results/<grid>/table.md, the report of the kept results, made now by the code as it is,
// is that file byte for byte. So the numbers in docs come from the repo's data and the current
// report code; after a change to the report, republish with `bash scripts/publish-grid.sh <grid>`.
// It reads the working tree: publish a grid once its cells are all kept (a running sweep adds cells
// to studies/results/<grid>, and the published table then differs until it is republished).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSweep } from '../../src/report/from-sweep.js';
import { sweepMarkdown } from '../../src/report/write-report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const published = readdirSync(path.join(ROOT, 'docs/results')).filter(
  (g) => existsSync(path.join(ROOT, 'docs/results', g, 'table.md')) && existsSync(path.join(ROOT, 'studies/results', g, 'sweep.json')),
);

describe('published study tables', () => {
  it('covers at least the synthetic 32-px grid (its cells are kept)', () => {
    expect(published).toContain('synthetic-32');
  });

  it.each(published)('docs/results/%s/table.md is the report of its kept results', async (grid) => {
    const dir = path.join('studies/results', grid);
    // the table names the folder as `scaat report` was given it, relative to the repo
    const sweep = { ...(await loadSweep(path.join(ROOT, dir))), dir };
    expect(sweepMarkdown(sweep)).toBe(readFileSync(path.join(ROOT, 'docs/results', grid, 'table.md'), 'utf8'));
  });
});
