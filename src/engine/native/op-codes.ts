/**
 * The names of the numbers the native addon takes: its modes (activation, convolution op,
 * batch-norm op, binary op, broadcast) and every slot of each kernel's Float64Array of parameters,
 * the same names as native/src/op_codes.h. The addon exports its table (`opCodes()`);
 * ./op-codes.test.ts checks it against {@link NATIVE_OP_CODES} entry by entry, and
 * {@link loadAddon} (./_addon.ts) refuses a build whose table differs (built from other sources).
 *
 * A parameter block maps each slot name to its index (0 … slots − 1, in the order of
 * op_codes.h's list); {@link packParams} fills a block by name. `off*` slots hold the byte offset
 * of a float32 operand in the wasm heap, −1 for an absent optional one.
 */

/** Activation fused after a convolution or matmul (native `Act`), named as TF.js's fused ops name them. */
export const ACT = { linear: 0, relu: 1, relu6: 2, elu: 3, sigmoid: 4, leakyrelu: 5 } as const;
/** What conv2d computes: y from (x, w), dx from (dy, w), or dw from (x, dy). */
export const CONV_OP = { forward: 0, backwardData: 1, backwardWeights: 2 } as const;
/**
 * What batchNorm computes: with given statistics (forward; backward, whose gradients include those
 * reaching the statistics inputs) or with batch statistics (training: forward also returns mean
 * and variance; backward goes through them).
 */
export const BATCH_NORM_OP = { forward: 0, backward: 1, trainingForward: 2, trainingBackward: 3 } as const;
/** The binary op of elementwise. */
export const BINARY_OP = { add: 0, sub: 1, mul: 2 } as const;
/** elementwise's operand shapes: a, b [n] (same); a [n], b [m] (vectorB); a [m], b [n] (vectorA). */
export const BROADCAST = { same: 0, vectorB: 1, vectorA: 2 } as const;

/** Pooling geometry: x [n, h, w, c] → y [n, oh, ow, c], window kh × kw, strides, padding before. */
const POOL_GEOMETRY = { n: 0, h: 1, w: 2, c: 3, oh: 4, ow: 5, kh: 6, kw: 7, sh: 8, sw: 9, pt: 10, pl: 11 } as const;
/** Every batchNorm block starts so: the op, x viewed as [rows, c], ε. */
const BATCH_NORM_HEAD = { op: 0, rows: 1, c: 2, eps: 3 } as const;

/**
 * conv2d (act, alpha as for matmul). By op: forward off0 = x, off1 = w, offBias = bias or −1,
 * offOut = y; backwardData off0 = dy, off1 = w, offOut = dx; backwardWeights off0 = x, off1 = dy,
 * offOut = dw (offBias −1 for both).
 */
export const CONV2D_PARAMS = {
  op: 0, n: 1, h: 2, w: 3, c: 4, oc: 5, kh: 6, kw: 7, oh: 8, ow: 9, sh: 10, sw: 11, dh: 12, dw: 13,
  pt: 14, pl: 15, pb: 16, pr: 17, act: 18, alpha: 19, off0: 20, off1: 21, offBias: 22, offOut: 23,
} as const;
/** maxPool2dGrad: dx [n, h, w, c] of max pooling x given dy [n, oh, ow, c]. */
export const MAX_POOL2D_GRAD_PARAMS = { ...POOL_GEOMETRY, offX: 12, offDy: 13, offDx: 14 } as const;
/**
 * matmul: C = act(op(A) · op(B) + bias) per batch matrix; transA/transB 0 or 1; strides in values
 * between consecutive batch matrices (0 broadcasts one); alpha: leakyrelu's slope.
 */
export const MATMUL_PARAMS = {
  batch: 0, m: 1, n: 2, k: 3, transA: 4, transB: 5, offA: 6, strideA: 7, offB: 8, strideB: 9, offBias: 10,
  act: 11, alpha: 12, offC: 13,
} as const;
/** reluGrad: dx = dy · [x > 0] over n values. */
export const RELU_GRAD_PARAMS = { n: 0, offDy: 1, offX: 2, offDx: 3 } as const;
/** batchNorm forward: y from x and given statistics (scale, offset may be −1: 1 and 0). */
export const BATCH_NORM_FORWARD_PARAMS = {
  ...BATCH_NORM_HEAD, offX: 4, offMean: 5, offVar: 6, offScale: 7, offOffset: 8, offY: 9,
} as const;
/** batchNorm backward: the gradient w.r.t. x, mean, var, scale, offset (scale may be −1). */
export const BATCH_NORM_BACKWARD_PARAMS = {
  ...BATCH_NORM_HEAD, offX: 4, offDy: 5, offMean: 6, offVar: 7, offScale: 8, offDx: 9, offDmean: 10, offDvar: 11,
  offDscale: 12, offDoffset: 13,
} as const;
/** batchNorm trainingForward: y and the batch statistics mean, var (scale, offset may be −1). */
export const BATCH_NORM_TRAINING_FORWARD_PARAMS = {
  ...BATCH_NORM_HEAD, offX: 4, offScale: 5, offOffset: 6, offY: 7, offMean: 8, offVar: 9,
} as const;
/** batchNorm trainingBackward: dx, dscale, doffset through the statistics (scale, dmean, dvar may be −1). */
export const BATCH_NORM_TRAINING_BACKWARD_PARAMS = {
  ...BATCH_NORM_HEAD, offX: 4, offDy: 5, offMean: 6, offVar: 7, offScale: 8, offDmean: 9, offDvar: 10, offDx: 11,
  offDscale: 12, offDoffset: 13,
} as const;
/** elementwise: out [n] = a op b as the broadcast says; m divides n (m = n when same). */
export const ELEMENTWISE_PARAMS = { op: 0, broadcast: 1, n: 2, m: 3, offA: 4, offB: 5, offOut: 6 } as const;
/** relu: y = max(x, 0) over n values. */
export const RELU_PARAMS = { n: 0, offX: 1, offY: 2 } as const;
/** maxPool2d: y [n, oh, ow, c] from x [n, h, w, c]. */
export const MAX_POOL2D_PARAMS = { ...POOL_GEOMETRY, offX: 12, offY: 13 } as const;
/** channelSum: out [c] = Σ over rows of x [rows, c], ÷ rows when mean is 1. */
export const CHANNEL_SUM_PARAMS = { rows: 0, c: 1, mean: 2, offX: 3, offOut: 4 } as const;

/** Names → numbers: a mode's codes, or a parameter block's slot indices. */
export type NameTable = Readonly<Record<string, number>>;
/** A value for every slot of parameter block B, by name. */
export type ParamValues<B extends NameTable> = { readonly [K in keyof B]: number };
/** The pooling geometry's values (the first slots of both max-pool blocks). */
export type PoolGeometry = ParamValues<typeof POOL_GEOMETRY>;
/** A code of a mode, e.g. `Code<typeof BROADCAST>` is 0 | 1 | 2. */
export type Code<M extends NameTable> = M[keyof M];

const PARAMS = {
  conv2d: CONV2D_PARAMS,
  maxPool2dGrad: MAX_POOL2D_GRAD_PARAMS,
  matmul: MATMUL_PARAMS,
  reluGrad: RELU_GRAD_PARAMS,
  batchNormForward: BATCH_NORM_FORWARD_PARAMS,
  batchNormBackward: BATCH_NORM_BACKWARD_PARAMS,
  batchNormTrainingForward: BATCH_NORM_TRAINING_FORWARD_PARAMS,
  batchNormTrainingBackward: BATCH_NORM_TRAINING_BACKWARD_PARAMS,
  elementwise: ELEMENTWISE_PARAMS,
  relu: RELU_PARAMS,
  maxPool2d: MAX_POOL2D_PARAMS,
  channelSum: CHANNEL_SUM_PARAMS,
} as const;

/** The addon's `opCodes()` shape: modes, parameter blocks (by the addon's names) and their lengths. */
export interface OpCodeTable {
  readonly modes: Readonly<Record<string, NameTable>>;
  readonly params: Readonly<Record<string, NameTable>>;
  readonly lengths: Readonly<Record<string, number>>;
}

/** This side's table, in the shape of the addon's `opCodes()`; a block's length is its number of slots. */
export const NATIVE_OP_CODES: OpCodeTable = {
  modes: { act: ACT, convOp: CONV_OP, batchNormOp: BATCH_NORM_OP, binaryOp: BINARY_OP, broadcast: BROADCAST },
  params: PARAMS,
  lengths: Object.fromEntries(Object.entries(PARAMS).map(([name, block]) => [name, Object.keys(block).length])),
};

/** A Float64Array of `block`'s length with every slot set from `values` by name. */
export function packParams<B extends NameTable>(block: B, values: ParamValues<B>): Float64Array {
  const slots = Object.keys(block) as Array<keyof B & string>;
  const params = new Float64Array(slots.length);
  for (const slot of slots) params[block[slot]] = values[slot];
  return params;
}

/** Every entry of a table as "group.name.entry" → value (modes, params) and "lengths.name" → value. */
function entries(table: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (prefix: string, v: unknown): void => {
    if (typeof v === 'object' && v !== null) {
      for (const [k, w] of Object.entries(v)) walk(prefix === '' ? k : `${prefix}.${k}`, w);
    } else if (prefix !== '') {
      out.set(prefix, v);
    }
  };
  walk('', table);
  return out;
}

/**
 * How the addon's table `native` differs from {@link NATIVE_OP_CODES}: one line per entry added,
 * dropped or renumbered, e.g. "params.conv2d.act: 19 in the addon, 18 here"; [] when they agree.
 */
export function opCodeDifferences(native: unknown): string[] {
  const got = entries(native);
  const want = entries(NATIVE_OP_CODES);
  const lines: string[] = [];
  for (const [k, v] of want) {
    if (!got.has(k)) lines.push(`${k}: missing in the addon, ${String(v)} here`);
    else if (got.get(k) !== v) lines.push(`${k}: ${String(got.get(k))} in the addon, ${String(v)} here`);
  }
  for (const [k, v] of got) if (!want.has(k)) lines.push(`${k}: ${String(v)} in the addon, missing here`);
  return lines;
}
