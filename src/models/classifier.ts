/**
 * The `Classifier` contract: everything in scaat (saliency, attacks, trainers, metrics) sees a
 * model only through it, so any TF.js `LayersModel` fits (built in code or loaded from model.json).
 *
 * Contract:
 * - input: images NHWC float32 in [0, 1] of shape [B, ...inputShape]; any normalisation is part
 *   of the model;
 * - `logits(x, {training})` returns pre-softmax scores [B, numClasses]. For a model whose last
 *   layer ends in a softmax, the adapter returns the pre-softmax values (method.md §3);
 * - `training: true` runs layers in training mode (dropout on, batch norm with batch statistics
 *   and moving-average updates); the default is inference mode;
 * - pure with respect to tensors: the caller owns the returned tensor; inputs are not disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../errors.js';

export interface Classifier {
  /** [H, W, C] of one input image. */
  readonly inputShape: readonly [number, number, number];
  /** Number of classes K. */
  readonly numClasses: number;
  /** Pre-softmax logits [B, K]. Caller owns the result. */
  logits(x: tf.Tensor4D, options?: { training?: boolean }): tf.Tensor2D;
  /** The variables an optimizer updates. */
  trainableVariables(): tf.Variable[];
  /** The underlying LayersModel, for saving and loading in the standard TF.js format. */
  readonly model: tf.LayersModel;
}

/** Options of {@link fromLayersModel}. */
export interface FromLayersModelOptions {
  /** [H, W, C]; checked against the model's input when the model declares one. Default: the model's. */
  inputShape?: readonly [number, number, number];
  /** K; checked against the model's output when it declares one. Default: the model's last dimension. */
  numClasses?: number;
}

/** The part of a tfjs-layers activation object the adapter touches (not exported by tfjs). */
interface ActivationLike {
  getClassName(): string;
  apply(x: tf.Tensor): tf.Tensor;
}

/** Identity activation that tfjs-layers' Dense/Conv recognise as their fused 'linear' path. */
const LINEAR: ActivationLike = { getClassName: () => 'linear', apply: (x) => x };

/**
 * Wraps a TF.js `LayersModel` (one image input, one output [B, K]) as a {@link Classifier}.
 *
 * Pre-softmax logits: when the model ends in a softmax, `logits()` returns the values before it:
 * - a final `Activation('softmax')` or `Softmax` layer: the output of the layer before it
 *   (a sub-model that shares every weight);
 * - a final layer with `activation: 'softmax'` (e.g. Dense): that layer is applied with a linear
 *   activation for the duration of the call (swapped back in a `finally`; single-threaded JS).
 * Other final activations (e.g. sigmoid) are rejected: their outputs are not class scores.
 *
 * @throws ShapeError when the model's input is not [?, H, W, C] or its output not [?, K], or they
 *   disagree with `inputShape` / `numClasses`; ConfigError for an unsupported final activation.
 * @example
 * const clf = fromLayersModel(tf.sequential({layers: [tf.layers.flatten({inputShape: [8, 8, 1]}),
 *   tf.layers.dense({units: 3, activation: 'softmax'})]}));
 * clf.logits(x);   // [B, 3] pre-softmax scores; caller disposes
 */
export function fromLayersModel(model: tf.LayersModel, options: FromLayersModelOptions = {}): Classifier {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ShapeError(
      `fromLayersModel: expected a model with one input and one output, got ${model.inputs.length} input(s) and ${model.outputs.length} output(s)`,
    );
  }
  const inShape = model.inputs[0]!.shape;
  const outShape = model.outputs[0]!.shape;
  if (inShape.length !== 4) {
    throw new ShapeError(`fromLayersModel: expected an image input [?, H, W, C], got [${inShape.map(String).join(', ')}]`);
  }
  if (outShape.length !== 2) {
    throw new ShapeError(`fromLayersModel: expected an output [?, K], got [${outShape.map(String).join(', ')}]`);
  }
  const inputShape = resolveInputShape(inShape.slice(1), options.inputShape);
  const numClasses = resolveNumClasses(outShape[1] ?? null, options.numClasses);

  const logitsOf = buildLogits(model);
  return {
    inputShape,
    numClasses,
    model,
    logits(x, { training = false } = {}) {
      if (x.rank !== 4 || x.shape[1] !== inputShape[0] || x.shape[2] !== inputShape[1] || x.shape[3] !== inputShape[2]) {
        throw new ShapeError(
          `Classifier.logits: expected x of shape [?, ${inputShape.join(', ')}], got [${x.shape.join(', ')}]`,
        );
      }
      return logitsOf(x, training);
    },
    trainableVariables: () => layerVariables(model.trainableWeights),
  };
}

/**
 * The `tf.Variable`s behind tfjs-layers `LayerVariable`s (what `tf.Optimizer.minimize` takes).
 * `LayerVariable.read()` returns its backing variable without copying.
 */
export function layerVariables(weights: ReadonlyArray<{ read(): tf.Tensor }>): tf.Variable[] {
  return weights.map((w) => w.read() as tf.Variable);
}

function resolveInputShape(
  declared: ReadonlyArray<number | null>,
  given: readonly [number, number, number] | undefined,
): readonly [number, number, number] {
  const out: number[] = [];
  for (let i = 0; i < 3; i++) {
    const d = declared[i] ?? null;
    const g = given?.[i];
    if (d !== null && g !== undefined && d !== g) {
      throw new ShapeError(
        `fromLayersModel: inputShape [${given!.join(', ')}] does not match the model's input [${declared.map((v) => v ?? '?').join(', ')}]`,
      );
    }
    const v = g ?? d;
    if (v === null || !Number.isInteger(v) || v <= 0) {
      throw new ShapeError(
        `fromLayersModel: the model's input [${declared.map((v2) => v2 ?? '?').join(', ')}] has unknown sizes; pass options.inputShape`,
      );
    }
    out.push(v);
  }
  return [out[0]!, out[1]!, out[2]!] as const;
}

function resolveNumClasses(declared: number | null, given: number | undefined): number {
  if (declared !== null && given !== undefined && declared !== given) {
    throw new ShapeError(`fromLayersModel: numClasses ${given} does not match the model's output size ${declared}`);
  }
  const k = given ?? declared;
  if (k === null || !Number.isInteger(k) || k < 1) {
    throw new ShapeError(`fromLayersModel: unknown number of classes; pass options.numClasses`);
  }
  return k;
}

/** Builds the x → logits function, removing a final softmax if there is one. */
function buildLogits(model: tf.LayersModel): (x: tf.Tensor4D, training: boolean) => tf.Tensor2D {
  const last = outputLayer(model);
  const className = last.getClassName();
  const activation = (last as unknown as { activation?: ActivationLike }).activation;
  const actName = activation?.getClassName();

  // 1) A separate softmax layer: the logits are its input; a sub-model shares all weights.
  if (className === 'Softmax' || (className === 'Activation' && actName === 'softmax')) {
    const sub = tf.model({ inputs: model.inputs, outputs: last.input as tf.SymbolicTensor });
    return (x, training) => sub.apply(x, { training }) as tf.Tensor2D;
  }
  // 2) A layer with a fused softmax activation: run it with a linear activation.
  if (actName === 'softmax') {
    const holder = last as unknown as { activation: ActivationLike };
    return (x, training) => {
      const saved = holder.activation;
      holder.activation = LINEAR;
      try {
        return model.apply(x, { training }) as tf.Tensor2D;
      } finally {
        holder.activation = saved;
      }
    };
  }
  // 3) Already logits (linear activation, or a layer without one such as Add/Dense linear).
  if (actName !== undefined && actName !== 'linear') {
    throw new ConfigError(
      `fromLayersModel: the output layer '${last.name}' ends in '${actName}'; expected 'linear' (logits) or 'softmax'`,
    );
  }
  return (x, training) => model.apply(x, { training }) as tf.Tensor2D;
}

/** The layer that produces the model's (single) output. */
function outputLayer(model: tf.LayersModel): tf.layers.Layer {
  const out = model.outputs[0]!;
  // SymbolicTensor.sourceLayer is the producing layer (a tfjs-layers Layer).
  return out.sourceLayer as tf.layers.Layer;
}
