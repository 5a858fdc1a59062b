/**
 * The browser page (web/): built with esbuild from the library's own saliency code, served on
 * 127.0.0.1, driven in headless Chromium. Two tiny saved models ("regular", "scaat") and an 8×8
 * image in; the page must show 2 models × 3 methods of non-blank maps without console errors,
 * and its maps must equal the ones the same library computes in Node on the same model and
 * image (cpu backend on both sides: same kernels, so agreement to float rounding).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { toUint8Map } from '../../src/metrics/uint8-map.js';
import { fromLayersModel } from '../../src/models/classifier.js';
import type { Classifier } from '../../src/models/classifier.js';
import { saveClassifier } from '../../src/models/io.js';
import { encodePng } from '../../src/report/heatmap.js';
import { toSaliencyMap } from '../../src/saliency/postprocess.js';
import { getSaliency } from '../../src/saliency/registry.js';
import { buildWeb } from '../../web/build.js';
import { serveStatic } from '../../web/serve.js';
import type { StaticServer } from '../../web/serve.js';
import { CHROMIUM, launchChromium } from '../fixtures/chromium.js';
import type { ChromiumSession } from '../fixtures/chromium.js';
import { describeRequires, useBackend } from '../helpers/index.js';

const H = 8;
const METHODS = ['vanilla-gradient', 'smooth-grad', 'integrated-gradients'];
const OPTS: Record<string, Record<string, unknown>> = { 'smooth-grad': { samples: 4, seed: 0 }, 'integrated-gradients': { steps: 8 } };

function tinyCnn(seed: number): Classifier {
  const init = (s: number) => tf.initializers.glorotNormal({ seed: s });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [H, H, 1], filters: 3, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: init(seed) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: init(seed + 1), biasInitializer: 'zeros' }),
    ],
  });
  return fromLayersModel(model);
}

interface PageModel {
  predicted: number;
  target: number;
  maps: { method: string; scores: Record<string, number>; u8: Record<string, number> }[];
}

describeRequires(CHROMIUM)('browser page in headless Chromium', () => {
  let dir: string;
  let server: StaticServer;
  let session: ChromiumSession;
  const models: Record<string, Classifier> = {};
  const pixels = Uint8Array.from({ length: H * H }, (_, i) => ((i % H) * 29 + Math.floor(i / H) * 17) % 256);
  const external: string[] = [];

  beforeAll(async () => {
    await useBackend('cpu');
    dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-web-'));
    await buildWeb({ outDir: path.join(dir, 'dist'), minify: false });
    mkdirSync(path.join(dir, 'models'));
    models['regular'] = tinyCnn(1);
    models['scaat'] = tinyCnn(7);
    await saveClassifier(models['regular'], path.join(dir, 'models', 'regular'));
    await saveClassifier(models['scaat'], path.join(dir, 'models', 'scaat'));
    writeFileSync(path.join(dir, 'models', 'image.png'), encodePng(pixels, H, H, 1));
    server = await serveStatic({ '/': path.join(dir, 'dist'), '/models/': path.join(dir, 'models') });
    session = await launchChromium();
    await session.context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(server.url)) return route.continue();
      external.push(url);
      return route.abort();
    });
    const query = 'regular=models/regular/model.json&scaat=models/scaat/model.json&image=models/image.png&backend=cpu&sgSamples=4&igSteps=8&auto=1';
    await session.page.goto(`${server.url}index.html?${query}`);
    await session.page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset['state'] ?? ''), undefined, { timeout: 60_000 });
  });

  afterAll(async () => {
    await session?.close();
    await server?.close();
    for (const m of Object.values(models)) m.model.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finishes without errors, on the requested backend, offline', async () => {
    const state = await session.page.evaluate(() => ({ state: document.body.dataset['state'], status: document.getElementById('status')?.textContent, backend: window.scaat?.result?.backend }));
    expect(state.state, String(state.status)).toBe('done');
    expect(state.backend).toBe('cpu');
    expect(session.problems).toEqual([]);
    expect(external).toEqual([]);
  });

  it('shows three non-blank maps for each of the two models', async () => {
    const canvases = await session.page.evaluate(() =>
      [...document.querySelectorAll<HTMLCanvasElement>('#results canvas[data-method]')].map((c) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        const colours = new Set<number>();
        for (let i = 0; i < d.length; i += 4) colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
        return { slot: c.closest('tr')?.dataset['slot'], method: c.dataset['method'], colours: colours.size, w: c.width };
      }),
    );
    expect(canvases.map((c) => `${c.slot}/${c.method}`)).toEqual(['regular', 'scaat'].flatMap((s) => METHODS.map((m) => `${s}/${m}`)));
    for (const c of canvases) {
      expect(c.w).toBe(H);
      expect(c.colours, `${c.slot}/${c.method}`).toBeGreaterThan(4);
    }
  });

  it("computes the same maps as the library in Node", async () => {
    const page = (await session.page.evaluate(() => window.scaat?.result?.models)) as unknown as Record<string, PageModel>;
    const x = tf.tensor4d(Float32Array.from(pixels, (v) => v / 255), [1, H, H, 1]);
    try {
      for (const slot of ['regular', 'scaat']) {
        const clf = models[slot]!;
        const predicted = tf.tidy(() => clf.logits(x).argMax(1).dataSync()[0]!);
        expect(page[slot]!.predicted, `${slot} prediction`).toBe(predicted);
        const y = tf.tensor1d([predicted], 'int32');
        for (const method of METHODS) {
          const s = tf.tidy(() => toSaliencyMap(getSaliency(method).create(OPTS[method] ?? {})(clf, x, y)));
          const scores = (await s.data()) as Float32Array;
          s.dispose();
          const got = page[slot]!.maps.find((m) => m.method === method)!;
          const browser = Float32Array.from({ length: H * H }, (_, i) => got.scores[i]!);
          const scale = Math.max(...scores);
          let worst = 0;
          for (let i = 0; i < scores.length; i++) worst = Math.max(worst, Math.abs(browser[i]! - scores[i]!));
          expect(worst / scale, `${slot}/${method} relative max difference`).toBeLessThan(1e-5);
          const u8 = toUint8Map(scores);
          const pu8 = Uint8Array.from({ length: H * H }, (_, i) => got.u8[i]!);
          let off = 0;
          for (let i = 0; i < u8.length; i++) off = Math.max(off, Math.abs(u8[i]! - pu8[i]!));
          expect(off, `${slot}/${method} 8-bit map`).toBeLessThanOrEqual(1);
        }
        y.dispose();
      }
    } finally {
      x.dispose();
    }
  });
});
