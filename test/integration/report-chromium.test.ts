/**
 * The report in a real browser: `scaat report` on the fixture, then headless Chromium loads the
 * HTML with every network request blocked and recorded, and checks that it loads with no console
 * errors, requests nothing, every figure renders (non-blank pixels), every embedded PNG decodes,
 * and a full-page screenshot is produced.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { decodePng } from '../../src/report/heatmap.js';
import { CHROMIUM, launchChromium } from '../fixtures/chromium.js';
import type { ChromiumSession } from '../fixtures/chromium.js';
import { THREE_RUNS_JSON } from '../fixtures/index.js';
import { describeRequires } from '../helpers/index.js';

const FIGURES = ['entropy-distribution', 'robustness', 'aopc-curves', 'q-distribution', 'training-curves', 'examples'];

describeRequires(CHROMIUM)('report HTML in headless Chromium', () => {
  let out: string;
  let session: ChromiumSession;
  const requests: string[] = [];

  beforeAll(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), 'scaat-report-'));
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['report', THREE_RUNS_JSON, '--out', out])).toBe(0);
    } finally {
      write.mockRestore();
    }
    session = await launchChromium();
    const html = pathToFileURL(path.join(out, 'report.html')).href;
    // Only the report itself may be fetched; anything else is recorded and refused.
    await session.context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url === html) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await session.page.goto(html, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await session?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('writes report.html, results.json and one PNG per figure', () => {
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
    expect(existsSync(path.join(out, 'results.json'))).toBe(true);
    for (const id of FIGURES) expect(existsSync(path.join(out, 'figures', `${id}.png`)), id).toBe(true);
  });

  it('loads with no console errors or warnings and no network requests', () => {
    expect(session.problems).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('renders every figure with visible content', async () => {
    const ids = await session.page.$$eval('figure[data-figure]', (els) => els.map((e) => e.getAttribute('data-figure')));
    expect(ids).toEqual(FIGURES);
    for (const id of FIGURES) {
      const svg = session.page.locator(`figure[data-figure="${id}"] svg`).first();
      const box = await svg.boundingBox();
      expect(box && box.width > 100 && box.height > 100, `${id} size ${JSON.stringify(box)}`).toBe(true);
      const shot = decodePng(await svg.screenshot());
      let ink = 0;
      for (let i = 0; i < shot.rgba.length; i += 4) if (shot.rgba[i]! < 200 || shot.rgba[i + 1]! < 200 || shot.rgba[i + 2]! < 200) ink++;
      expect(ink / (shot.width * shot.height), `${id}: share of non-white pixels`).toBeGreaterThan(0.01);
    }
  });

  it('decodes every embedded image', async () => {
    const result = await session.page.evaluate(async () => {
      const hrefs = [...document.querySelectorAll('image')].map((e) => e.getAttribute('href') ?? '');
      const sizes = await Promise.all(
        hrefs.map(async (href) => {
          const img = new Image();
          img.src = href;
          await img.decode();
          return img.naturalWidth * img.naturalHeight;
        }),
      );
      return { count: hrefs.length, empty: sizes.filter((s) => s === 0).length, external: hrefs.filter((h) => !h.startsWith('data:image/png;base64,')).length };
    });
    expect(result.count).toBe(4 * (1 + 3 * 3) + 1);
    expect(result.empty).toBe(0);
    expect(result.external).toBe(0);
  });

  it('shows the table with the best values marked', async () => {
    const best = await session.page.$$eval('#paper-table td.best', (tds) => tds.length);
    expect(best).toBe(1 + 3 * 4 + 1);
    const header = await session.page.$$eval('#paper-table thead th', (ths) => ths.map((t) => t.textContent));
    expect(header).toEqual(['method', 'metric', 'Regular', 'SCAAT', 'PGD-AT']);
  });

  it('produces a full-page screenshot', async () => {
    const file = path.join(out, 'screenshot.png');
    await session.page.screenshot({ path: file, fullPage: true });
    const png = decodePng(new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(file))));
    expect(png.width).toBe(1280);
    expect(png.height).toBeGreaterThan(2000);
  });
});
