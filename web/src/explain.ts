/**
 * The browser page's computation, from the library itself: a saved model (TF.js layers format)
 * and an image in, per saliency method the per-pixel scores and the 8-bit map out, exactly as
 * the metrics see them (saliency/postprocess.ts Σ_c|A|, then metrics/uint8-map.ts's P99 clip).
 */
import * as tf from '@tensorflow/tfjs';
import { fromLayersModel } from '../../src/models/classifier.js';
import type { Classifier } from '../../src/models/classifier.js';
import { registerCustomLayers } from '../../src/models/layers.js';
import { getSaliency } from '../../src/saliency/registry.js';
import { toSaliencyMap } from '../../src/saliency/postprocess.js';
import { toUint8Map } from '../../src/metrics/uint8-map.js';

/** The three methods the page shows, by registry key. */
export const PAGE_METHODS = ['vanilla-gradient', 'smooth-grad', 'integrated-gradients'] as const;

/** Options of {@link explainImage}. */
export interface ExplainOptions {
  /** Class to explain: the model's prediction (default) or a fixed class id. */
  readonly target?: 'predicted' | number;
  /** SmoothGrad samples. @default 50 (method.md §3) */
  readonly sgSamples?: number;
  /** Integrated-gradients steps. @default 50 (method.md §3) */
  readonly igSteps?: number;
  /** SmoothGrad noise seed. @default 0 */
  readonly seed?: number;
  /** Methods to run. @default all of {@link PAGE_METHODS} */
  readonly methods?: readonly string[];
}

/** One method's map of one image. */
export interface MethodMap {
  readonly method: string;
  /** Σ_c |attribution|, row-major H·W. */
  readonly scores: Float32Array;
  /** The 8-bit map of method.md §4 (0 = least salient, 255 = 99th percentile and above). */
  readonly u8: Uint8Array;
  /** Milliseconds the method took (attribution + read-back). */
  readonly ms: number;
}

/** What one model says about one image. */
export interface Explanation {
  /** Softmax probabilities [K]. */
  readonly probabilities: number[];
  readonly predicted: number;
  readonly target: number;
  readonly maps: MethodMap[];
}

/** Loads a layers model from a URL or from picked files (model.json + weight files) as a Classifier. */
export async function loadModel(source: string | readonly File[]): Promise<Classifier> {
  registerCustomLayers();
  const model =
    typeof source === 'string' ? await tf.loadLayersModel(source) : await tf.loadLayersModel(tf.io.browserFiles(orderModelFiles(source)));
  return fromLayersModel(model);
}

/** tf.io.browserFiles wants model.json first, then the weight files. */
function orderModelFiles(files: readonly File[]): File[] {
  const json = files.filter((f) => f.name.endsWith('.json'));
  if (json.length !== 1) throw new Error(`pick exactly one model.json and its weight files, got ${files.map((f) => f.name).join(', ') || 'nothing'}`);
  return [json[0]!, ...files.filter((f) => !f.name.endsWith('.json'))];
}

/**
 * Explains `x` (row-major H·W·C in [0, 1], the classifier's input shape) with each method.
 * Every tensor is disposed before returning.
 */
export async function explainImage(clf: Classifier, x: Float32Array, options: ExplainOptions = {}): Promise<Explanation> {
  const { target = 'predicted', sgSamples = 50, igSteps = 50, seed = 0, methods = PAGE_METHODS } = options;
  const [H, W, C] = clf.inputShape;
  if (x.length !== H * W * C) throw new Error(`image has ${x.length} values, the model expects ${H}×${W}×${C}`);
  const xt = tf.tensor4d(x, [1, H, W, C]);
  try {
    const probs = tf.tidy(() => tf.softmax(clf.logits(xt)));
    const probabilities = Array.from(await probs.data());
    probs.dispose();
    const predicted = probabilities.indexOf(Math.max(...probabilities));
    const cls = target === 'predicted' ? predicted : target;
    if (!(Number.isInteger(cls) && cls >= 0 && cls < clf.numClasses)) throw new Error(`target class ${cls} is outside [0, ${clf.numClasses})`);
    const y = tf.tensor1d([cls], 'int32');
    const maps: MethodMap[] = [];
    try {
      for (const method of methods) {
        const opts = method === 'smooth-grad' ? { samples: sgSamples, seed } : method === 'integrated-gradients' ? { steps: igSteps } : {};
        const fn = getSaliency(method).create(opts);
        const t0 = performance.now();
        const s = tf.tidy(() => {
          const a = fn(clf, xt, y);
          return toSaliencyMap(a).reshape([H * W]);
        });
        const scores = (await s.data()) as Float32Array;
        s.dispose();
        maps.push({ method, scores, u8: toUint8Map(scores), ms: performance.now() - t0 });
        // Let the page repaint between methods.
        await new Promise((r) => setTimeout(r, 0));
      }
    } finally {
      y.dispose();
    }
    return { probabilities, predicted, target: cls, maps };
  } finally {
    xt.dispose();
  }
}
