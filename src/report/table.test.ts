import { describe, expect, it } from 'vitest';
import { threeRunsJson } from '../../test/fixtures/index.js';
import { parseResults } from './run-results.js';
import type { RunResults } from './run-results.js';
import { bestIndices, buildTable, formatTableMarkdown, formatTableText, formatValue, formatPercent, tableCaveats, undefinedNotes } from './table.js';
import { renderReport } from './render-html.js';

const results = () => parseResults(threeRunsJson());

describe('bestIndices', () => {
  it('picks the minimum for ↓ and the maximum for ↑, with every tie', () => {
    expect(bestIndices([3, 1, 2], 'lower-is-better')).toEqual([1]);
    expect(bestIndices([3, 1, 3], 'higher-is-better')).toEqual([0, 2]);
    expect(bestIndices([null, 1, 1], 'lower-is-better')).toEqual([1, 2]);
  });
  it('marks nothing without a direction or with fewer than two values', () => {
    expect(bestIndices([3, 1], undefined)).toEqual([]);
    expect(bestIndices([null, 1, null], 'lower-is-better')).toEqual([]);
  });
});

describe('buildTable', () => {
  it('orders columns regular, SCAAT, baselines whatever the input order', () => {
    const t = buildTable(results());
    expect(t.columns.map((c) => c.trainer)).toEqual(['regular', 'scaat', 'pgd-at']);
    expect(t.columns.map((c) => c.label)).toEqual(['Regular', 'SCAAT', 'PGD-AT']);
  });

  it("keeps the paper's four metrics in its order for 'headline'", () => {
    const t = buildTable(results(), { metrics: 'headline' });
    expect(t.sections.map((s) => s.short)).toEqual(['VG', 'SG', 'IG']);
    expect(t.sections[0]!.rows.map((r) => r.metric)).toEqual(['entropy', 'size', 'aopc-lerf', 'aopc-rel']);
    const all = buildTable(results());
    expect(all.sections[0]!.rows.map((r) => r.metric)).toEqual(['entropy', 'size', 'aopc-lerf', 'aopc-rel', 'aopc-morf']);
  });

  it('marks the best value per row from the fixture numbers', () => {
    const t = buildTable(results(), { metrics: 'headline' });
    // Fixture: VG entropy regular 6.31, SCAAT 4.02, PGD-AT 4.05 → SCAAT (column 1) is best (↓).
    const vgEntropy = t.sections[0]!.rows[0]!;
    expect(vgEntropy.values).toEqual([6.31, 4.02, 4.05]);
    expect(vgEntropy.best).toEqual([1]);
    // IG AOPC_lerf: regular 0.0633 = SCAAT 0.0633 < PGD-AT 0.069 → a tie, both marked.
    const igLerf = t.sections[2]!.rows.find((r) => r.metric === 'aopc-lerf')!;
    expect(igLerf.best).toEqual([0, 1]);
    // IG AOPC_rel: PGD-AT's is null (undefined), shown as a gap, and not a candidate.
    const igRel = t.sections[2]!.rows.find((r) => r.metric === 'aopc-rel')!;
    expect(igRel.values[2]).toBeNull();
    expect(igRel.best).toEqual([1]);
    // Clean accuracy ↑: regular 0.977 > 0.969 > 0.965.
    expect(t.accuracy.best).toEqual([0]);
  });

  it('renders text and Markdown with arrows, gaps and marks', () => {
    const t = buildTable(results(), { metrics: 'headline' });
    const text = formatTableText(t);
    expect(text.split('\n')[0]).toMatch(/^method\s+metric\s+Regular\s+SCAAT\s+PGD-AT$/);
    expect(text).toMatch(/VG\s+Entropy \(bits\) ↓\s+6\.31\s+4\.02\*\s+4\.05/);
    expect(text).toMatch(/AOPC_rel \(noise fill\) ↑\s+7\.19\s+7\.30\*\s+—/);
    expect(text).toMatch(/Clean accuracy ↑\s+97\.7 %\*/);
    const md = formatTableMarkdown(t);
    expect(md).toContain('| VG | Entropy (bits) ↓ | 6.31 | **4.02** | 4.05 |');
  });
});

describe('formatValue', () => {
  it('gives three significant digits without exponents in the usual range', () => {
    expect(formatValue(5.612)).toBe('5.61');
    expect(formatValue(4.2)).toBe('4.20');
    expect(formatValue(78.14)).toBe('78.1');
    expect(formatValue(1030.4)).toBe('1030');
    expect(formatValue(0.0032)).toBe('0.00320');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(null)).toBe('—');
    expect(formatValue(Number.NaN)).toBe('—');
    expect(formatPercent(0.9771)).toBe('97.7 %');
  });
});

describe('undefined values and the poster unit (issue 12)', () => {
  /** The fixture with SCAAT's VG AOPC_rel made undefined (as evaluate() writes it). */
  const withUndefined = () => {
    const json = threeRunsJson() as { runs: Array<{ trainer: string; evaluation: { methods: Array<{ method: string; metrics: Array<Record<string, unknown>> }> } }> };
    const scaat = json.runs.find((r) => r.trainer === 'scaat')!;
    const rel = scaat.evaluation.methods.find((m) => m.method === 'vanilla-gradient')!.metrics.find((v) => v['name'] === 'aopc-rel')!;
    rel['value'] = null;
    rel['undefinedReason'] = 'AOPC_lerf mean -3.0e-7 ≤ 1e-5: … undefined';
    return parseResults(json);
  };

  it("prints 'undefined' (not a number, not '—') where the value is undefined, and lists why", () => {
    const table = buildTable(withUndefined(), { metrics: 'headline' });
    const row = table.sections.find((s) => s.method === 'vanilla-gradient')!.rows.find((r) => r.metric === 'aopc-rel')!;
    const col = table.columns.findIndex((c) => c.trainer === 'scaat');
    expect(row.values[col]).toBeNull();
    expect(row.undefinedReasons[col]).toContain('≤ 1e-5');
    expect(row.best).not.toContain(col);
    const text = formatTableText(table);
    expect(text.split('\n').find((l) => l.includes('AOPC_rel'))).toMatch(/undefined/);
    expect(formatTableMarkdown(table)).toContain('| undefined |');
    expect(undefinedNotes(table)).toEqual([expect.stringMatching(/^VG AOPC_rel.*, SCAAT: AOPC_lerf mean -3\.0e-7/)]);
  });

  it('lists undefined cells and the evaluations\' warnings as caveats, in the report too', () => {
    const base = withUndefined();
    const results = { ...base, runs: base.runs.map((r) => (r.trainer === 'pgd-at' ? { ...r, evaluation: { ...r.evaluation!, warnings: ["AOPC fill 'black' equals the data's background"] } } : r)) };
    const table = buildTable(results, { metrics: 'headline' });
    expect(tableCaveats(table, results)).toEqual([
      expect.stringMatching(/^undefined: VG AOPC_rel.*SCAAT/),
      "warning (PGD-AT): AOPC fill 'black' equals the data's background",
    ]);
    const html = renderReport(results, []);
    expect(html).toMatch(/<td class="undefined" title="AOPC_lerf mean -3\.0e-7[^"]*" data-metric="aopc-rel[^"]*">undefined<\/td>/);
    expect(html).toMatch(/<ul class="caveats"><li>undefined: VG AOPC_rel.*<li>warning \(PGD-AT\): AOPC fill &#39;black&#39;/);
  });

  it('shows AOPC_lerf in the poster unit ×10⁻³ when asked, same ranking', () => {
    const plain = buildTable(results(), { metrics: 'headline' });
    const poster = buildTable(results(), { metrics: 'headline', posterUnits: true });
    const lerf = (t: typeof plain) => t.sections[0]!.rows.find((r) => r.metric === 'aopc-lerf')!;
    expect(lerf(poster).label).toContain('(×10⁻³)');
    lerf(plain).values.forEach((v, i) => expect(lerf(poster).values[i]).toBeCloseTo(v! * 1000, 9));
    expect(lerf(poster).best).toEqual(lerf(plain).best);
    // other rows unchanged
    expect(poster.sections[0]!.rows.find((r) => r.metric === 'entropy')!.values).toEqual(plain.sections[0]!.rows.find((r) => r.metric === 'entropy')!.values);
  });
});

describe('several AOPC fills (an evaluation with aopc.fill [uniform, black])', () => {
  /** The fixture with a second fill after each AOPC value ('black fill', the value ×10) and its curves. */
  const withBlackFill = (): RunResults => {
    const r = results();
    return {
      ...r,
      runs: r.runs.map((run) => ({
        ...run,
        evaluation: {
          ...run.evaluation!,
          methods: run.evaluation!.methods.map((m) => ({
            ...m,
            metrics: m.metrics.flatMap((v) => (v.name.startsWith('aopc-') ? [v, { ...v, variant: 'black fill', value: v.value === null ? null : 10 * v.value }] : [v])),
            ...(m.aopc ? { aopcMore: [{ ...m.aopc, fill: 'black' }] } : {}),
          })),
        },
      })),
    };
  };

  it("'all': a row per fill, each with its own values; 'headline': the first fill's rows only, as with one fill", () => {
    const two = withBlackFill();
    const all = buildTable(two);
    expect(all.sections[0]!.rows.map((r) => r.key)).toEqual([
      'entropy', 'size', 'aopc-lerf (noise fill)', 'aopc-lerf (black fill)', 'aopc-rel (noise fill)', 'aopc-rel (black fill)', 'aopc-morf (noise fill)', 'aopc-morf (black fill)',
    ]);
    const row = (t: typeof all, key: string) => t.sections[0]!.rows.find((r) => r.key === key)!;
    row(all, 'aopc-lerf (black fill)').values.forEach((v, i) => expect(v).toBeCloseTo(10 * row(all, 'aopc-lerf (noise fill)').values[i]!, 12));
    expect(row(all, 'aopc-lerf (black fill)').label).toBe('AOPC_lerf (black fill)');
    // the headline table picks one value per metric and method: the first fill's, the table of one fill
    expect(buildTable(two, { metrics: 'headline' })).toEqual(buildTable(results(), { metrics: 'headline' }));
    // parsed as results (aopcMore included) and rendered: both fills in the table of all metrics
    const html = renderReport(parseResults(JSON.parse(JSON.stringify(two))), []);
    expect(html).toContain('AOPC_lerf (×10⁻³) (black fill)');
  });
});
