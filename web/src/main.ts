/**
 * The browser page: load a regular and a SCAAT model and an image, and show each model's three
 * saliency maps (vanilla gradient, SmoothGrad, integrated gradients), computed live with TF.js.
 *
 * Inputs come from the form, or from the query string so a link can preload everything:
 *   ?regular=<model.json URL>&scaat=<model.json URL>&image=<image URL>&backend=webgl|wasm|cpu
 *    &target=predicted|<class>&sgSamples=50&igSteps=50&auto=1
 * Progress and the result are mirrored in `document.body.dataset.state` ('idle' | 'running' |
 * 'done' | 'error') and `window.scaat` (for automated checks).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Classifier } from '../../src/models/classifier.js';
import { colorize } from '../../src/report/colormap.js';
import { explainImage, loadModel, PAGE_METHODS } from './explain.js';
import type { Explanation } from './explain.js';

const LABELS: Record<string, string> = { 'vanilla-gradient': 'Vanilla Gradient', 'smooth-grad': 'SmoothGrad', 'integrated-gradients': 'Integrated Gradients' };
const SLOTS = ['regular', 'scaat'] as const;
type Slot = (typeof SLOTS)[number];

interface PageResult {
  backend: string;
  image: { width: number; height: number; channels: number };
  models: Partial<Record<Slot, Explanation & { inputShape: readonly number[] }>>;
}
declare global {
  interface Window {
    scaat?: { state: string; result?: PageResult; error?: string };
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function setState(state: string, message: string, error?: string): void {
  document.body.dataset['state'] = state;
  $('status').textContent = message;
  window.scaat = { ...(window.scaat ?? {}), state, ...(error ? { error } : {}) };
}

async function setBackend(name: string): Promise<string> {
  if (name === 'wasm') setWasmPaths(new URL('./', document.baseURI).href);
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch {
    ok = false;
  }
  if (!ok) {
    await tf.setBackend('cpu');
    $('backend-note').textContent = `${name} is not available here; using cpu.`;
  }
  await tf.ready();
  return tf.getBackend();
}

/** Reads the image into [0, 1] floats at the model's size (bilinear resize; gray = mean of RGB). */
async function readImage(source: string | File, [H, W, C]: readonly [number, number, number]): Promise<{ x: Float32Array; rgba: ImageData }> {
  const url = typeof source === 'string' ? source : URL.createObjectURL(source);
  const img = new Image();
  img.src = url;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(img, 0, 0, W, H);
  const rgba = ctx.getImageData(0, 0, W, H);
  const x = new Float32Array(H * W * C);
  for (let p = 0; p < H * W; p++) {
    const r = rgba.data[p * 4]!;
    const g = rgba.data[p * 4 + 1]!;
    const b = rgba.data[p * 4 + 2]!;
    if (C === 1) x[p] = (r + g + b) / 3 / 255;
    else for (let c = 0; c < C; c++) x[p * C + c] = [r, g, b][c % 3]! / 255;
  }
  return { x, rgba };
}

function drawRgb(canvas: HTMLCanvasElement, rgb: Uint8Array | Uint8ClampedArray, w: number, h: number, stride: 3 | 4): void {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const im = ctx.createImageData(w, h);
  for (let p = 0; p < w * h; p++) {
    im.data[p * 4] = rgb[p * stride]!;
    im.data[p * 4 + 1] = rgb[p * stride + 1]!;
    im.data[p * 4 + 2] = rgb[p * stride + 2]!;
    im.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(im, 0, 0);
}

function modelSource(slot: Slot): string | File[] | undefined {
  const files = $<HTMLInputElement>(`${slot}-files`).files;
  if (files && files.length > 0) return [...files];
  const url = $<HTMLInputElement>(`${slot}-url`).value.trim();
  return url || undefined;
}

function imageSource(): string | File | undefined {
  const f = $<HTMLInputElement>('image-file').files?.[0];
  if (f) return f;
  return $<HTMLInputElement>('image-url').value.trim() || undefined;
}

async function run(): Promise<void> {
  setState('running', 'loading…');
  const results = $('results');
  results.replaceChildren();
  try {
    const backend = await setBackend($<HTMLSelectElement>('backend').value);
    const targetText = $<HTMLInputElement>('target').value.trim();
    const target = targetText === '' || targetText === 'predicted' ? 'predicted' : Number(targetText);
    if (target !== 'predicted' && !Number.isInteger(target)) throw new Error(`target: expected 'predicted' or a class id, got '${targetText}'`);
    const sgSamples = Number($<HTMLInputElement>('sg-samples').value);
    const igSteps = Number($<HTMLInputElement>('ig-steps').value);
    const image = imageSource();
    if (!image) throw new Error('choose an image (URL or file)');
    const result: PageResult = { backend, image: { width: 0, height: 0, channels: 0 }, models: {} };
    let loaded = 0;
    for (const slot of SLOTS) {
      const source = modelSource(slot);
      if (!source) continue;
      setState('running', `${slot}: loading the model…`);
      const clf: Classifier = await loadModel(source);
      const { x, rgba } = await readImage(image, clf.inputShape);
      result.image = { width: clf.inputShape[1], height: clf.inputShape[0], channels: clf.inputShape[2] };
      const row = document.createElement('tr');
      row.dataset['slot'] = slot;
      const name = document.createElement('th');
      name.textContent = slot === 'scaat' ? 'SCAAT' : 'Regular';
      row.append(name);
      const cell = (canvas: HTMLCanvasElement, caption: string) => {
        const td = document.createElement('td');
        const cap = document.createElement('div');
        cap.className = 'cap';
        cap.textContent = caption;
        td.append(canvas, cap);
        row.append(td);
      };
      const input = document.createElement('canvas');
      drawRgb(input, rgba.data, rgba.width, rgba.height, 4);
      cell(input, 'input');
      results.append(row);
      setState('running', `${slot}: computing saliency on ${backend}…`);
      const ex = await explainImage(clf, x, { target, sgSamples, igSteps });
      for (const m of ex.maps) {
        const c = document.createElement('canvas');
        c.dataset['method'] = m.method;
        drawRgb(c, colorize(m.u8), clf.inputShape[1], clf.inputShape[0], 3);
        cell(c, `${LABELS[m.method] ?? m.method} · ${m.ms.toFixed(0)} ms`);
      }
      const pred = document.createElement('td');
      pred.className = 'pred';
      pred.textContent = `predicted ${ex.predicted} (p = ${ex.probabilities[ex.predicted]!.toFixed(3)}); explaining class ${ex.target}`;
      row.append(pred);
      result.models[slot] = { ...ex, inputShape: clf.inputShape };
      clf.model.dispose();
      loaded++;
    }
    if (loaded === 0) throw new Error('load at least one model (URL or model.json + weights.bin files)');
    window.scaat = { state: 'done', result };
    setState('done', `done on ${backend}: ${loaded} model(s) × ${PAGE_METHODS.length} methods (tensors in memory: ${tf.memory().numTensors})`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`scaat page: ${message}`);
    setState('error', `error: ${message}`, message);
  }
}

function init(): void {
  const q = new URLSearchParams(location.search);
  for (const [param, id] of [
    ['regular', 'regular-url'],
    ['scaat', 'scaat-url'],
    ['image', 'image-url'],
    ['target', 'target'],
    ['sgSamples', 'sg-samples'],
    ['igSteps', 'ig-steps'],
  ] as const) {
    const v = q.get(param);
    if (v !== null) $<HTMLInputElement>(id).value = v;
  }
  const backend = q.get('backend');
  if (backend) $<HTMLSelectElement>('backend').value = backend;
  $('run').addEventListener('click', () => void run());
  setState('idle', 'choose models and an image, then press Explain');
  if (q.get('auto') === '1') void run();
}

init();
