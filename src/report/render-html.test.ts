import { describe, expect, it } from 'vitest';
import { threeRunsJson } from '../../test/fixtures/index.js';
import type { Figure } from './figures.js';
import type { SweepCell, SweepResults } from './from-sweep.js';
import { formatSeconds, renderReport, renderSweepReport } from './render-html.js';
import { SPREAD_NOTE } from './poster-comparison.js';
import { parseResults } from './run-results.js';
import type { RunResult, RunResults } from './run-results.js';
import { buildSweepTable } from './sweep-table.js';

const results = () => parseResults(threeRunsJson());
const stub = (id: string): Figure => ({ id, title: `Title ${id}`, caption: `Caption ${id}`, svg: `<svg xmlns="http://www.w3.org/2000/svg" data-stub="${id}"></svg>` });

describe('renderReport', () => {
  // A review snapshot, not an oracle (the renderer's own output, reviewed when written; under CI a
  // missing or changed snapshot fails): the tests after it check what the page must hold.
  it('matches the reviewed HTML for the fixture (figures stubbed)', async () => {
    const html = renderReport(results(), [stub('a'), stub('b')], { scaatVersion: '0.1.0', pngPaths: { a: 'figures/a.png' } });
    await expect(html).toMatchFileSnapshot('./__snapshots__/three-runs.html');
  });

  it('marks the best cell of each row and shows ↓/↑ and gaps', () => {
    const html = renderReport(results(), []);
    const table = html.slice(html.indexOf('<table id="paper-table"'), html.indexOf('</table>', html.indexOf('<table id="paper-table"')));
    // VG entropy: regular 6.31, SCAAT 4.02 (best, ↓), PGD-AT 4.05.
    expect(table).toContain('<td class="l">Entropy (bits) ↓</td><td data-metric="entropy">6.31</td><td class="best" title="best in row" data-metric="entropy">4.02</td><td data-metric="entropy">4.05</td>');
    expect(table).toContain('AOPC_rel (noise fill) ↑');
    expect(table).toContain('>—</td>');
    expect((table.match(/class="best"/g) ?? []).length).toBe(1 + 3 * 4 + 1); // accuracy + one per row + the IG AOPC_lerf tie
  });

  it('is self-contained: no scripts, no external references', () => {
    const html = renderReport(results(), [stub('a')]);
    expect(html).not.toMatch(/<script|<link|<iframe/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*"(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(/i);
  });

  it('escapes every string that comes from the results', () => {
    const r = results();
    const evil: RunResults = { ...r, title: '<script>alert(1)</script>', runs: [{ ...r.runs[0]!, id: 'a"<b>', label: '<img src=x>' }] };
    const html = renderReport(evil, []);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a&quot;&lt;b&gt;');
  });

  it('says which figures are missing and why', () => {
    const r = results();
    const bare: RunResults = { ...r, runs: r.runs.map(({ training: _t, examples: _e, ...rest }) => rest) };
    const html = renderReport(bare, []);
    expect(html).toContain('q_i distribution: no run logged it');
    expect(html).toContain('Training curves: no run has a training log');
    expect(html).toContain('Example saliency maps: no run has examples');
  });

  it("describes each trainer under the runs table: the PGD-AT control trains on SCAAT's loss over the whole image", () => {
    const html = renderReport(results(), []);
    const legend = html.slice(html.indexOf('<p class="legend trainers">'), html.indexOf('</p>', html.indexOf('<p class="legend trainers">')));
    expect(legend).toContain('<b>pgd-at</b>: SCAAT&#39;s whole-image control: the same attack on every pixel and, by default, the same loss CE(f(x), y) + λ·CE(f(x_adv), y)');
    expect(legend).toContain('<b>scaat</b>: CE(f(x), y) + λ·CE(f(x_adv), y)');
    expect(legend).toContain('<b>regular</b>: ');
    expect(legend).not.toContain('<b>sgt</b>'); // only the trainers present
  });

  it('shows the resolved config, seed, backend, versions and timings of every run', () => {
    const html = renderReport(results(), []);
    for (const id of ['regular-s1', 'scaat-s1', 'pgd-at-s1']) expect(html).toContain(`data-run="${id}"`);
    expect(html).toContain('&quot;batchSize&quot;: 64');
    expect(html).toContain('wasm · 1 thread(s)');
    expect(html).toContain('scaat 0.1.0, tfjs 4.22.0');
    expect(html).toContain('train 2 min 05 s, evaluate 41.7 s');
  });
});

describe('formatSeconds', () => {
  it('switches units at a minute and an hour', () => {
    expect(formatSeconds(12.34)).toBe('12.3 s');
    expect(formatSeconds(59.96)).toBe('1 min 00 s');
    expect(formatSeconds(125.3)).toBe('2 min 05 s');
    expect(formatSeconds(3725)).toBe('1 h 02 min');
  });
});

describe('renderSweepReport', () => {
  const run = (id: string, entropy: number): RunResult => ({
    id, trainer: 'x', config: {}, seed: 0,
    evaluation: { cleanAccuracy: 0.9, methods: [{ method: 'vanilla-gradient', metrics: [{ name: 'entropy', value: entropy }] }] },
  });
  const cell = (trainer: string, seed: number, entropy?: number): SweepCell => {
    const name = `trainer=${trainer}__seed=${seed}`;
    return { name, params: { trainer, seed: String(seed) }, status: entropy === undefined ? 'failed' : 'done', ...(entropy === undefined ? { error: 'DataError: <gone>' } : { run: run(name, entropy) }) };
  };
  const sweep: SweepResults = {
    dir: 'runs/s', gridFile: 'studies/s.json', grid: { $comment: '<b>why</b>' }, comment: '<b>why</b>', evaluation: { limit: 8 }, seedAxis: 'seed', partitionAxis: 'data',
    cells: [cell('regular', 0, 6.0), cell('regular', 1, 6.2), cell('scaat', 0, 4.0), cell('scaat', 1, 4.2), cell('sgt', 0)],
  };

  it("gives the whole grid's command to rerun it: the recorded one without --cells / --shard, else one from the grid and folder", () => {
    expect(renderSweepReport(sweep, buildSweepTable(sweep), { defaultTitle: 'Sweep s' })).toContain('Rerun or continue the study with <code>scaat sweep studies/s.json --out runs/s</code>');
    const part = { ...sweep, command: 'scaat sweep studies/s.json --out /big/s --cells 2-4 --results kept/s' };
    expect(renderSweepReport(part, buildSweepTable(part), { defaultTitle: 'Sweep s' })).toContain('Rerun or continue the study with <code>scaat sweep studies/s.json --out /big/s --results kept/s</code>');
  });

  it('marks the separated best cell, states the rule, lists every cell, escapes, and loads nothing', () => {
    const html = renderSweepReport(sweep, buildSweepTable(sweep), { defaultTitle: 'Sweep s' });
    expect(html).toContain('<title>Sweep s</title>');
    const best = html.match(/<td class="best"[^>]*>[^<]*<\/td>/g) ?? [];
    expect(best).toEqual(['<td class="best" title="best: separated from the runner-up by more than the seed spread" data-column="vanilla-gradient/entropy">4.10 ± 0.141</td>']);
    expect(html).toContain('<td class="l">trainer=regular</td><td>2</td><td data-column="clean-accuracy">90.0 ± 0.0 %</td><td data-column="vanilla-gradient/entropy">6.10 ± 0.141</td>');
    expect(html).toContain('<td class="l">trainer=sgt</td><td>0/1</td>');
    expect(html).toContain('more than the sum of their two standard deviations');
    expect(html).toContain('failed: DataError: &lt;gone&gt;');
    expect(html).toContain('&lt;b&gt;why&lt;/b&gt;');
    expect(html).not.toContain('<b>why</b>');
    expect(html).toContain('scaat sweep studies/s.json --out runs/s');
    expect(html).not.toMatch(/<script|<link|<iframe|url\(/i);
    expect(html).not.toContain('id="figures"'); // no figures given, no section
  });

  it('shows the fronts with their captions and PNG links after the table', () => {
    const fig = { id: 'front-aopc-rel', title: 'clean accuracy against AOPC_rel', caption: 'Better is <right>.', svg: '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"></svg>' };
    const html = renderSweepReport(sweep, buildSweepTable(sweep), { defaultTitle: 'Sweep s', pngPaths: { 'front-aopc-rel': 'figures/front-aopc-rel.png' } }, { fronts: [fig] });
    expect(html).toContain('<figure id="fig-front-aopc-rel" data-figure="front-aopc-rel"><h3>clean accuracy against AOPC_rel</h3><svg');
    expect(html).toContain('<figcaption>Better is &lt;right&gt;. (<a href="figures/front-aopc-rel.png">PNG</a>)</figcaption>');
    expect(html.indexOf('id="figures"')).toBeGreaterThan(html.indexOf('class="metrics sweep"'));
    expect(html.indexOf('id="figures"')).toBeLessThan(html.indexOf('id="cells"'));
  });

  it('compares SCAAT with the whole-image control after the poster, and says which side is better', () => {
    // SCAAT entropy 4.0, 4.2 and PGD-AT 5.0, 5.4 (↓): means 4.1 vs 5.2, stds 0.141 and 0.283: SCAAT beyond the spread
    const controlled: SweepResults = { ...sweep, cells: [...sweep.cells, cell('pgd-at', 0, 5.0), cell('pgd-at', 1, 5.4)] };
    const html = renderSweepReport(controlled, buildSweepTable(controlled), { defaultTitle: 'Sweep s' });
    expect(html).toContain('<h2 id="control">SCAAT against the whole-image control (same other settings)</h2>');
    expect(html).toContain('<h3>trainer=scaat vs trainer=pgd-at</h3><p class="legend">of 2 measures, the control is better on 0, SCAAT on 1, 0 within the seed spread, 1 with equal means.</p>');
    expect(html).toContain('<tr data-column="vanilla-gradient/entropy" data-verdict="SCAAT"><td class="l">Entropy (bits)</td><td class="l">VG</td><td>2 / 2</td><td>4.10 ± 0.141</td><td>5.20 ± 0.283</td><td class="l">SCAAT</td></tr>');
    expect(html.indexOf('id="control"')).toBeGreaterThan(html.indexOf('id="poster"'));
    // without a control: no section
    expect(renderSweepReport(sweep, buildSweepTable(sweep), { defaultTitle: 'Sweep s' })).not.toContain('id="control"');
  });

  it("compares SCAAT with regular against the poster's figures after the table", () => {
    const html = renderSweepReport(sweep, buildSweepTable(sweep), { defaultTitle: 'Sweep s' });
    expect(html).toContain('<h2 id="poster">Against the poster (regular → SCAAT)</h2>');
    expect(html).toContain('<h3>trainer=scaat (2 seeds) vs trainer=regular (2 seeds)</h3>');
    // Entropy 6.1 → 4.1: (4.1 − 6.1) / 6.1 = −32.8 %; accuracy 90 % on both sides.
    expect(html).toContain('<tr data-column="vanilla-gradient/entropy" data-verdict="meets"><td class="l">Entropy (bits)</td><td class="l">VG</td><td>2 / 2</td><td>6.10</td><td>4.10</td><td>−32.8 %</td><td class="l">−15 to −20 %</td><td class="l">meets</td></tr>');
    expect(html).toContain('<tr data-column="clean-accuracy" data-verdict="meets"><td class="l">Clean accuracy</td><td class="l"></td><td>2 / 2</td><td>90.0 %</td><td>90.0 %</td><td>0.00 pt</td>');
    expect(html.indexOf('id="poster"')).toBeGreaterThan(html.indexOf('class="metrics sweep"'));
    // No trainer axis: nothing to compare.
    const trainerless: SweepResults = { ...sweep, cells: sweep.cells.map((c) => ({ ...c, params: { seed: c.params['seed']!, note: c.params['trainer']! } })) };
    expect(renderSweepReport(trainerless, buildSweepTable(trainerless), { defaultTitle: 'Sweep s' })).not.toContain('id="poster"');
    expect(html).not.toContain('†');
    // SCAAT's entropies 0.1 and 4.2: mean 2.15, std 2.90 above it → (2.15 − 6.1) / 6.1 = −64.8 %, marked and explained.
    const spread: SweepResults = { ...sweep, cells: sweep.cells.map((c) => (c.name === 'trainer=scaat__seed=0' ? { ...c, run: run(c.name, 0.1) } : c)) };
    const spreadHtml = renderSweepReport(spread, buildSweepTable(spread), { defaultTitle: 'Sweep s' });
    expect(spreadHtml).toContain('<td>−64.8 % †</td>');
    expect(spreadHtml).toContain(`</table><p class="legend">${SPREAD_NOTE.replace("'", '&#39;')}</p>`);
  });

  it('marks a group with a warned cell and lists its warnings under the table, only then', () => {
    const warning = { code: 'constant-predictor', epochs: [0, 1], message: 'epoch 2: the model predicts class 1 for all 8 test samples <x>' };
    const warned: SweepResults = { ...sweep, cells: sweep.cells.map((c) => (c.name === 'trainer=scaat__seed=1' ? { ...c, run: { ...c.run!, trainingWarnings: [warning] } } : c)) };
    const html = renderSweepReport(warned, buildSweepTable(warned), { defaultTitle: 'Sweep s' });
    expect(html).toMatch(/<td class="l">trainer=scaat <span class="warn" title="[^"]*">⚠<\/span><\/td><td>2<\/td>/);
    expect(html).toContain('<td class="l">trainer=regular</td>');
    expect(html).toContain('<li>trainer=scaat__seed=1 (group trainer=scaat): constant predictor at epochs 1–2 (last: epoch 2: the model predicts class 1 for all 8 test samples &lt;x&gt;); its group&#39;s mean includes it</li>');
    expect(html.indexOf('id="training-warnings"')).toBeGreaterThan(html.indexOf('class="metrics sweep"'));
    expect(html.indexOf('id="training-warnings"')).toBeLessThan(html.indexOf('id="poster"'));
    const plain = renderSweepReport(sweep, buildSweepTable(sweep), { defaultTitle: 'Sweep s' });
    expect(plain).not.toMatch(/⚠|‡|training-warnings|evaluation-warnings/);
    // an evaluation's warning: its own mark and list, after the training warnings
    const evalWarned: SweepResults = { ...warned, cells: warned.cells.map((c) => (c.name === 'trainer=regular__seed=0' ? { ...c, run: { ...c.run!, evaluation: { ...c.run!.evaluation!, warnings: ['entropy, vanilla-gradient: 2 of 8 maps are constant <y>'] } } } : c)) };
    const both = renderSweepReport(evalWarned, buildSweepTable(evalWarned), { defaultTitle: 'Sweep s' });
    expect(both).toMatch(/<td class="l">trainer=regular <span class="warn" title="[^"]*evaluation[^"]*">‡<\/span><\/td><td>2<\/td>/);
    expect(both).toContain('<li>trainer=regular__seed=0 (group trainer=regular): entropy, vanilla-gradient: 2 of 8 maps are constant &lt;y&gt;; its group&#39;s mean includes it</li>');
    expect(both.indexOf('id="evaluation-warnings"')).toBeGreaterThan(both.indexOf('id="training-warnings"'));
  });

  it("shows SCAAT's q_i figures after the fronts", () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"></svg>';
    const front = { id: 'front-entropy', title: 'front', caption: 'c', svg };
    const q = { id: 'q-distribution-trainer_scaat', title: "SCAAT's q_i over epochs, trainer=scaat", caption: 'its first seed', svg };
    const html = renderSweepReport(sweep, buildSweepTable(sweep), { defaultTitle: 'Sweep s', pngPaths: { [q.id]: `figures/${q.id}.png` } }, { fronts: [front], q: [q] });
    expect(html).toContain('<h2 id="q-distribution">SCAAT\'s q_i over epochs</h2>\n<figure id="fig-q-distribution-trainer_scaat" data-figure="q-distribution-trainer_scaat">');
    expect(html).toContain('<figcaption>its first seed (<a href="figures/q-distribution-trainer_scaat.png">PNG</a>)</figcaption>');
    expect(html.indexOf('id="q-distribution"')).toBeGreaterThan(html.indexOf('data-figure="front-entropy"'));
    expect(html.indexOf('id="q-distribution"')).toBeLessThan(html.indexOf('id="cells"'));
    expect(renderSweepReport(sweep, buildSweepTable(sweep), { defaultTitle: 'Sweep s' }, { fronts: [front] })).not.toContain('id="q-distribution"');
  });
});
