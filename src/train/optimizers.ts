/**
 * The optimizers of the training loop, written out so that their whole state (step count and
 * per-variable buffers) is plain data a checkpoint can save and restore bit for bit:
 *
 *   SGD with momentum (PyTorch `torch.optim.SGD`, dampening 0):
 *     g ← ∇w + λ·w;   b ← μ·b + g;   w ← w − η·b          (Nesterov: w ← w − η·(g + μ·b))
 *   Adam (Kingma & Ba, 2015, https://arxiv.org/abs/1412.6980; PyTorch `torch.optim.Adam`, L2 decay):
 *     g ← ∇w + λ·w;   m ← β1·m + (1−β1)·g;   v ← β2·v + (1−β2)·g²
 *     w ← w − η·(m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)
 *
 * λ (weight decay) applies to every trainable variable, as PyTorch's `weight_decay`. The learning
 * rate η is a plain field that the loop sets before every step (see schedule.ts).
 * Both are `tf.Optimizer`s: trainers call `optimizer.minimize(f, true, vars)` or `applyGradients`.
 * Buffers are indexed by the variable's position in the list given at construction and found by
 * name, so a gradient map may omit variables without shifting the others.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError, ScaatError } from '../errors.js';

/** A named tensor, as `tf.Optimizer.getWeights()` returns (tfjs does not export the type). */
type NamedTensor = { name: string; tensor: tf.Tensor };

/** The optimizers by name (`optimizer` in the config). */
export type OptimizerName = 'sgd' | 'adam';

/** Hyperparameters of {@link createOptimizer} (the config keys of the same names). */
export interface OptimizerOptions {
  optimizer: OptimizerName;
  /** η, initial learning rate. */
  lr: number;
  /** λ, L2 weight decay added to the gradient. */
  weightDecay: number;
  /** μ, SGD momentum. */
  momentum: number;
  /** Nesterov momentum for SGD. */
  nesterov: boolean;
  /** Adam β1. */
  beta1: number;
  /** Adam β2. */
  beta2: number;
  /** Adam ε. */
  adamEpsilon: number;
}

/** Optimizer state as plain data (for checkpoints). */
export interface OptimizerState {
  readonly kind: OptimizerName;
  /** Updates applied so far (t). */
  readonly step: number;
  /** One entry per buffer: variable index, buffer name ('momentum' | 'm' | 'v'), shape and values. */
  readonly slots: ReadonlyArray<{ readonly variable: number; readonly buffer: string; readonly shape: readonly number[]; readonly data: Float32Array }>;
}

/** A `tf.Optimizer` with a settable learning rate and checkpointable state. */
export abstract class TrainOptimizer extends tf.Optimizer {
  /** η used by the next update. */
  learningRate: number;
  protected readonly vars: readonly tf.Variable[];
  private readonly index: Map<string, number>;
  /** buffers[name][i] = buffer of variable i. */
  protected readonly buffers: Record<string, tf.Variable[]>;
  protected t = 0;

  constructor(vars: readonly tf.Variable[], lr: number, bufferNames: readonly string[]) {
    super();
    this.learningRate = lr;
    this.vars = [...vars];
    this.index = new Map(vars.map((v, i) => [v.name, i]));
    this.buffers = {};
    for (const b of bufferNames) this.buffers[b] = vars.map((v) => tf.tidy(() => tf.zerosLike(v).variable(false)));
  }

  /** Updates applied so far. */
  override get iterations(): number {
    return this.t;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: Array<[string, tf.Tensor]> = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    this.t += 1;
    for (const [name, grad] of entries) {
      const i = this.index.get(name);
      if (i === undefined) {
        throw new ScaatError(`optimizer: got a gradient for variable '${name}', which is not among the ${this.vars.length} variables it was built for`);
      }
      tf.tidy(() => this.update(i, this.vars[i]!, grad));
    }
  }

  /** One variable's update, inside a tidy. */
  protected abstract update(i: number, w: tf.Variable, grad: tf.Tensor): void;

  /** State as plain data (reads the buffers synchronously). */
  getState(): OptimizerState {
    const slots: Array<OptimizerState['slots'][number]> = [];
    for (const [buffer, list] of Object.entries(this.buffers)) {
      list.forEach((b, variable) => slots.push({ variable, buffer, shape: [...b.shape], data: b.dataSync() as Float32Array }));
    }
    return { kind: this.kind, step: this.t, slots };
  }

  /**
   * Restores {@link getState} output. @throws DataError when the state belongs to another optimizer
   * or other variables (count or shapes differ).
   */
  setState(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new DataError(`optimizer state: expected '${this.kind}', got '${state.kind}'`);
    const expected = Object.keys(this.buffers).length * this.vars.length;
    if (state.slots.length !== expected) {
      throw new DataError(`optimizer state: expected ${expected} buffers (${this.vars.length} variables), got ${state.slots.length}`);
    }
    for (const s of state.slots) {
      const b = this.buffers[s.buffer]?.[s.variable];
      if (!b) throw new DataError(`optimizer state: unknown buffer '${s.buffer}' for variable ${s.variable}`);
      if (b.shape.length !== s.shape.length || b.shape.some((d, k) => d !== s.shape[k]) || s.data.length !== b.size) {
        throw new DataError(`optimizer state: buffer '${s.buffer}' of variable ${s.variable} ('${this.vars[s.variable]!.name}') has shape [${s.shape.join(', ')}], expected [${b.shape.join(', ')}]`);
      }
    }
    for (const s of state.slots) {
      const b = this.buffers[s.buffer]![s.variable]!;
      tf.tidy(() => b.assign(tf.tensor(s.data, [...s.shape], 'float32')));
    }
    this.t = state.step;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [{ name: 'iter', tensor: tf.scalar(this.t, 'int32') }];
    for (const [buffer, list] of Object.entries(this.buffers)) {
      list.forEach((b, i) => out.push({ name: `${this.vars[i]!.name}/${buffer}`, tensor: b }));
    }
    return out;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const [iter, ...rest] = weightValues;
    const names = Object.keys(this.buffers);
    const slots = rest.map((w, k) => ({
      variable: k % this.vars.length,
      buffer: names[Math.floor(k / this.vars.length)] ?? '?',
      shape: w.tensor.shape,
      data: w.tensor.dataSync() as Float32Array,
    }));
    this.setState({ kind: this.kind, step: iter ? iter.tensor.dataSync()[0]! : 0, slots });
  }

  override dispose(): void {
    for (const list of Object.values(this.buffers)) tf.dispose(list);
  }

  abstract readonly kind: OptimizerName;
}

/** SGD with (optionally Nesterov) momentum and L2 weight decay; see the module header. */
export class SgdMomentum extends TrainOptimizer {
  static get className(): string {
    return 'ScaatSgdMomentum';
  }
  readonly kind = 'sgd' as const;
  constructor(
    vars: readonly tf.Variable[],
    lr: number,
    readonly momentum: number,
    readonly weightDecay: number,
    readonly nesterov: boolean,
  ) {
    super(vars, lr, ['momentum']);
  }
  protected update(i: number, w: tf.Variable, grad: tf.Tensor): void {
    const g = this.weightDecay !== 0 ? tf.add(grad, tf.mul(this.weightDecay, w)) : grad;
    const buf = this.buffers['momentum']![i]!;
    const b = tf.add(tf.mul(this.momentum, buf), g);
    buf.assign(b);
    const dir = this.nesterov ? tf.add(g, tf.mul(this.momentum, b)) : b;
    w.assign(tf.sub(w, tf.mul(this.learningRate, dir)));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, momentum: this.momentum, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }
}

/** Adam with L2 weight decay (not AdamW); see the module header. */
export class Adam extends TrainOptimizer {
  static get className(): string {
    return 'ScaatAdam';
  }
  readonly kind = 'adam' as const;
  constructor(
    vars: readonly tf.Variable[],
    lr: number,
    readonly beta1: number,
    readonly beta2: number,
    readonly epsilon: number,
    readonly weightDecay: number,
  ) {
    super(vars, lr, ['m', 'v']);
  }
  protected update(i: number, w: tf.Variable, grad: tf.Tensor): void {
    const g = this.weightDecay !== 0 ? tf.add(grad, tf.mul(this.weightDecay, w)) : grad;
    const mBuf = this.buffers['m']![i]!;
    const vBuf = this.buffers['v']![i]!;
    const m = tf.add(tf.mul(this.beta1, mBuf), tf.mul(1 - this.beta1, g));
    const v = tf.add(tf.mul(this.beta2, vBuf), tf.mul(1 - this.beta2, tf.square(g)));
    mBuf.assign(m);
    vBuf.assign(v);
    // Bias corrections in float64 on the host: exact and the same after a resume.
    const c1 = 1 - Math.pow(this.beta1, this.t);
    const c2 = 1 - Math.pow(this.beta2, this.t);
    const denom = tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon);
    w.assign(tf.sub(w, tf.mul(this.learningRate / c1, tf.div(m, denom))));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay };
  }
}

/** Builds the configured optimizer over `vars` (the classifier's trainable variables). */
export function createOptimizer(vars: readonly tf.Variable[], o: OptimizerOptions): TrainOptimizer {
  return o.optimizer === 'adam'
    ? new Adam(vars, o.lr, o.beta1, o.beta2, o.adamEpsilon, o.weightDecay)
    : new SgdMomentum(vars, o.lr, o.momentum, o.weightDecay, o.nesterov);
}
