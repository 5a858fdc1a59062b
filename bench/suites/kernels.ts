/**
 * Per-kernel timings: the pure-wasm kernels vs scaat's native (oneDNN) kernels, on the layer shapes
 * of the two benchmark networks at batch 128 (4-conv CNN on 32×32×3, ResNet-20).
 *
 *   npx tsx bench/suites/kernels.ts [--reps 7] [--threads 1,2] [--filter label-or-kernel,…] [--min-size N]
 *     [--json bench/results/kernels.json]
 *
 * Each kernel is called through `tf.engine().runKernel` (no tape; wasm and native kernels are
 * synchronous, so the call's wall time is the kernel's) and its outputs freed; the time is the
 * median of `reps` calls after one warm-up. "wasm" is what the wasm backend runs
 * without the accelerator (stock TF.js kernels plus scaat's pure-wasm training kernels, captured
 * with SCAAT_NATIVE=0 before the addon is loaded); "native" columns run the same call with the
 * accelerator at each thread count (a call a native kernel defers runs the wasm kernel there too).
 * Nothing is printed as a speed-up unless both sides ran.
 *
 * `--min-size N` sets the glue kernels' size threshold (src/engine/native/elementwise.ts) for this
 * run; `--filter size --min-size 1` times them natively at every size of the threshold sweep.
 */
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { machineSummary, setupBackend } from '../../src/engine/backend.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { loadAddon } from '../../src/engine/native/_addon.js';
import { DEFAULT_MIN_SIZE, elementwiseKernels } from '../../src/engine/native/elementwise.js';
import type { Defer } from '../../src/engine/native/elementwise.js';
import { nativeKernels } from '../../src/engine/native/kernels.js';
import type { NativeKernelArgs } from '../../src/engine/native/kernels.js';
import { scriptArgs } from '../../scripts/_args.js';

interface KernelCase {
  /** Row label: network, layer and pass. */
  readonly label: string;
  readonly kernel: string;
  readonly inputs: Record<string, number[]>;
  readonly attrs: Record<string, unknown>;
  /** Multiply-adds × 2 (for GFLOP/s), or 0 when not meaningful. */
  readonly flops: number;
}

const B = 128;

/** The three conv kernels of one layer (forward as FusedConv2D+bias+relu when `fused`). */
function convCases(net: string, name: string, h: number, c: number, oc: number, k: number, s: number,
  { fused = false, firstLayer = false } = {}): KernelCase[] {
  const oh = Math.ceil(h / s);
  const x = [B, h, h, c];
  const f = [k, k, c, oc];
  const dy = [B, oh, oh, oc];
  const geo = { strides: [s, s], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
  const flops = 2 * B * oh * oh * oc * k * k * c;
  const tag = `${net} ${name} ${h}²×${c}→${oc} k${k}s${s}`;
  const out: KernelCase[] = [
    fused
      ? { label: `${tag} fwd+bias+relu`, kernel: 'FusedConv2D', inputs: { x, filter: f, bias: [oc] },
        attrs: { ...geo, activation: 'relu' }, flops }
      : { label: `${tag} fwd`, kernel: 'Conv2D', inputs: { x, filter: f }, attrs: geo, flops },
    { label: `${tag} ∂filter`, kernel: 'Conv2DBackpropFilter', inputs: { x, dy }, attrs: { ...geo, filterShape: f }, flops },
  ];
  // The first layer's ∂x is the saliency map itself (not needed to train).
  out.splice(1, 0, { label: `${tag} ∂x${firstLayer ? ' (saliency only)' : ''}`, kernel: 'Conv2DBackpropInput',
    inputs: { dy, filter: f }, attrs: { ...geo, inputShape: x }, flops });
  return out;
}

function matmulCases(label: string, m: number, k: number, n: number): KernelCase[] {
  const flops = 2 * m * n * k;
  return [
    // tf.fused.matMul hands the kernel rank-3 operands (the stock wasm kernel needs them).
    { label: `${label} fwd+bias+relu`, kernel: '_FusedMatMul', inputs: { a: [1, m, k], b: [1, k, n], bias: [n] },
      attrs: { transposeA: false, transposeB: false, activation: 'relu' }, flops },
    { label: `${label} ∂W = xᵀ·dy`, kernel: 'BatchMatMul', inputs: { a: [m, k], b: [m, n] },
      attrs: { transposeA: true, transposeB: false }, flops },
    { label: `${label} ∂x = dy·Wᵀ`, kernel: 'BatchMatMul', inputs: { a: [m, n], b: [k, n] },
      attrs: { transposeA: false, transposeB: true }, flops },
  ];
}

function maxPoolCases(label: string, h: number, c: number): KernelCase[] {
  const x = [B, h, h, c];
  const y = [B, h / 2, h / 2, c];
  const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid' };
  return [{ label: `${label} maxPool 2×2 ∂x`, kernel: 'MaxPoolGrad', inputs: { dy: y, input: x, output: y }, attrs, flops: 0 }];
}

/** Batch norm forward and its one-pass gradient (src/engine/kernels/batch-norm.ts). */
function batchNormCases(label: string, h: number, c: number): KernelCase[] {
  const x = [B, h, h, c];
  const eps = { varianceEpsilon: 1e-5 };
  return [
    { label: `${label} batch norm fwd`, kernel: 'FusedBatchNorm',
      inputs: { x, mean: [c], variance: [c], offset: [c], scale: [c] }, attrs: eps, flops: 0 },
    { label: `${label} batch norm ∂ (one pass)`, kernel: 'ScaatFusedBatchNormGrad',
      inputs: { x, dy: x, mean: [c], variance: [c], scale: [c] }, attrs: eps, flops: 0 },
  ];
}

/**
 * The glue between the convolutions (src/engine/native/elementwise.ts): in training mode TF.js
 * runs conv, bias add and ReLU as three kernels; the bias gradient is a Sum over all but channels.
 */
function glueCases(label: string, h: number, c: number, { bias = false, pool = false } = {}): KernelCase[] {
  const x = [B, h, h, c];
  const out: KernelCase[] = [];
  if (bias) out.push({ label: `${label} bias add`, kernel: 'Add', inputs: { a: x, b: [c] }, attrs: {}, flops: 0 });
  else out.push({ label: `${label} residual add`, kernel: 'Add', inputs: { a: x, b: x }, attrs: {}, flops: 0 });
  out.push({ label: `${label} relu`, kernel: 'Relu', inputs: { x }, attrs: {}, flops: 0 });
  if (bias) {
    out.push({ label: `${label} bias ∂ (sum over N, H, W)`, kernel: 'Sum', inputs: { x }, attrs: { axis: [0, 1, 2], keepDims: false }, flops: 0 });
  } else {
    out.push({ label: `${label} x − mean`, kernel: 'Sub', inputs: { a: x, b: [1, 1, 1, c] }, attrs: {}, flops: 0 });
    out.push({ label: `${label} dy · x`, kernel: 'Multiply', inputs: { a: x, b: x }, attrs: {}, flops: 0 });
    out.push({ label: `${label} batch mean`, kernel: 'Mean', inputs: { x }, attrs: { axis: [0, 1, 2], keepDims: true }, flops: 0 });
  }
  if (pool) {
    out.push({ label: `${label} maxPool 2×2 fwd`, kernel: 'MaxPool', inputs: { x },
      attrs: { filterSize: [2, 2], strides: [2, 2], pad: 'valid' }, flops: 0 });
  }
  return out;
}

/** Same-shape Add and Relu from 16K to 2M values: where the glue kernels' size threshold lies. */
function sizeSweepCases(): KernelCase[] {
  return [16384, 65536, 262144, 524288, 1048576, 2097152].flatMap((n) => [
    { label: `size ${n} add`, kernel: 'Add', inputs: { a: [n], b: [n] }, attrs: {}, flops: 0 },
    { label: `size ${n} relu`, kernel: 'Relu', inputs: { x: [n] }, attrs: {}, flops: 0 },
  ]);
}

/** The distinct layer shapes of the two benchmark networks (bench/networks.ts), batch 128. */
export const KERNEL_CASES: readonly KernelCase[] = [
  ...convCases('small-cnn', 'conv1', 32, 3, 32, 3, 1, { fused: true, firstLayer: true }),
  ...convCases('small-cnn', 'conv2', 32, 32, 32, 3, 1, { fused: true }),
  ...glueCases('small-cnn conv2', 32, 32, { bias: true, pool: true }),
  ...maxPoolCases('small-cnn pool1', 32, 32),
  ...convCases('small-cnn', 'conv3', 16, 32, 64, 3, 1, { fused: true }),
  ...convCases('small-cnn', 'conv4', 16, 64, 64, 3, 1, { fused: true }),
  ...glueCases('small-cnn conv4', 16, 64, { bias: true, pool: true }),
  ...maxPoolCases('small-cnn pool2', 16, 64),
  ...matmulCases('small-cnn dense 4096→128', B, 4096, 128),
  ...convCases('resnet20', 'stem', 32, 3, 16, 3, 1, { firstLayer: true }),
  ...convCases('resnet20', 'stage1', 32, 16, 16, 3, 1),
  ...convCases('resnet20', 'stage2 down', 32, 16, 32, 3, 2),
  ...convCases('resnet20', 'stage2 shortcut', 32, 16, 32, 1, 2),
  ...convCases('resnet20', 'stage2', 16, 32, 32, 3, 1),
  ...convCases('resnet20', 'stage3 down', 16, 32, 64, 3, 2),
  ...convCases('resnet20', 'stage3', 8, 64, 64, 3, 1),
  ...batchNormCases('resnet20 stage1', 32, 16),
  ...batchNormCases('resnet20 stage3', 8, 64),
  ...glueCases('resnet20 stage1', 32, 16),
  ...glueCases('resnet20 stage3', 8, 64),
  ...sizeSweepCases(),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeKernel(c: KernelCase, reps: number): number {
  const inputs: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(c.inputs)) {
    const t = tf.randomNormal(shape, 0, 1, 'float32', 7);
    inputs[name] = name === 'variance' ? tf.tidy(() => tf.add(tf.square(t), 0.5)) : t;
    if (name === 'variance') t.dispose();
  }
  const once = () => {
    const t0 = performance.now();
    const res = tf.engine().runKernel(c.kernel, inputs, c.attrs as NamedAttrMap) as Tensor | Tensor[];
    const ms = performance.now() - t0; // wasm and native kernels are synchronous: done on return
    tf.dispose(res);
    return ms;
  };
  try {
    once();
    return median(Array.from({ length: reps }, once));
  } finally {
    tf.dispose(Object.values(inputs));
  }
}

interface Row {
  readonly label: string;
  readonly kernel: string;
  readonly gflop: number;
  /** Median ms per implementation: 'wasm', 'native×1', 'native×2', … */
  readonly ms: Record<string, number>;
}

async function main(): Promise<void> {
  const { values } = scriptArgs({
    options: {
      reps: { type: 'string', default: '7' },
      threads: { type: 'string', default: '1,2' },
      json: { type: 'string', default: path.join('bench', 'results', 'kernels.json') },
      filter: { type: 'string' },
      'min-size': { type: 'string', default: String(DEFAULT_MIN_SIZE) },
    },
  }, 'npx tsx bench/suites/kernels.ts [--reps 7] [--threads 1,2] [--json FILE] [--filter label-or-kernel,…] [--min-size N]');
  const reps = Number.parseInt(values.reps, 10);
  const threadCounts = values.threads.split(',').map((t) => Number.parseInt(t, 10));
  const filters = values.filter?.split(',') ?? [];
  const cases = KERNEL_CASES.filter((c) => !filters.length || filters.some((f) => c.label.includes(f) || c.kernel === f));

  // The baseline is pure wasm: setupBackend registers the native kernels over the wasm ones when
  // the addon loads, so it runs with the accelerator off and the addon is loaded only afterwards.
  const userNative = process.env['SCAAT_NATIVE'];
  process.env['SCAAT_NATIVE'] = '0';
  try {
    await setupBackend({ backend: 'wasm' });
  } finally {
    if (userNative === undefined) delete process.env['SCAAT_NATIVE'];
    else process.env['SCAAT_NATIVE'] = userNative;
  }
  const load = loadAddon({ ...process.env, SCAAT_NATIVE: '1' });
  const names = [...new Set(cases.map((c) => c.kernel))];
  const wasmKernels = new Map<string, KernelConfig>();
  for (const name of names) {
    const k = tf.getKernel(name, 'wasm');
    if (k) wasmKernels.set(name, k);
  }
  const install = (configs: Map<string, KernelConfig>) => {
    for (const [name, config] of configs) {
      if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
      tf.registerKernel(config);
    }
  };

  const natives = new Map<string, KernelConfig>();
  if (load.ok) {
    const defer: Defer = <T extends TensorInfo | TensorInfo[] = TensorInfo>(name: string, args: NativeKernelArgs) =>
      wasmKernels.get(name)!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as T;
    const minSize = Number.parseInt(values['min-size'], 10);
    for (const [name, kernel] of [...nativeKernels(load.addon, wasmKernels), ...elementwiseKernels(load.addon, defer, { minSize })]) {
      if (names.includes(name)) natives.set(name, { kernelName: name, backendName: 'wasm', kernelFunc: kernel as unknown as tf.KernelFunc });
    }
  } else {
    console.error(`# native accelerator unavailable: ${load.reason}`);
  }
  // Implementations are interleaved case by case, so a busy machine slows all columns alike.
  const impls: Array<{ col: string; kernels: Map<string, KernelConfig>; threads?: number }> = [
    { col: 'wasm', kernels: wasmKernels },
    ...(load.ok ? threadCounts.map((t) => ({ col: `native×${t}`, kernels: natives, threads: t })) : []),
  ];
  const rows: Row[] = cases.map((c) => ({ label: c.label, kernel: c.kernel, gflop: c.flops / 1e9, ms: {} }));
  console.error(`# kernels: ${cases.length} cases, ${reps} reps, ${machineSummary()}, ${new Date().toISOString()}, load ${os.loadavg()[0]!.toFixed(1)}`);
  cases.forEach((c, i) => {
    for (const impl of impls) {
      if (!impl.kernels.has(c.kernel)) continue;
      install(impl.kernels);
      if (load.ok && impl.threads !== undefined) load.addon.setThreads(impl.threads);
      rows[i]!.ms[impl.col] = timeKernel(c, reps);
    }
    console.error(`${c.label}: ${impls.map((m) => `${m.col} ${rows[i]!.ms[m.col]?.toFixed(2) ?? '–'}`).join(', ')} ms`);
  });
  install(wasmKernels);

  const cols = ['wasm', ...(load.ok ? threadCounts.map((t) => `native×${t}`) : [])];
  const lines = [
    `| kernel | shape / pass | ${cols.map((c) => `${c} ms`).join(' | ')} | speed-up |`,
    `|---|---|${cols.map(() => '---:').join('|')}|---:|`,
  ];
  for (const r of rows) {
    const best = Math.min(...cols.slice(1).map((c) => r.ms[c] ?? Infinity));
    const wasm = r.ms['wasm'];
    const speedup = wasm !== undefined && Number.isFinite(best) ? `${(wasm / best).toFixed(1)}×` : '–';
    lines.push(`| ${r.kernel} | ${r.label} | ${cols.map((c) => (r.ms[c] === undefined ? '–' : r.ms[c]!.toFixed(2))).join(' | ')} | ${speedup} |`);
  }
  // A column's sum only when it timed every row (else '–', not NaN).
  const total = (col: string) => (rows.every((r) => r.ms[col] !== undefined) ? rows.reduce((s, r) => s + r.ms[col]!, 0).toFixed(1) : '–');
  lines.push(`| **sum** | | ${cols.map((c) => total(c)).join(' | ')} | |`);
  console.log(lines.join('\n'));

  const result = {
    date: new Date().toISOString(),
    machine: machineSummary(),
    node: process.version,
    tfjs: tf.version.tfjs,
    native: load.ok ? load.addon.info().library : `unavailable: ${load.reason}`,
    reps,
    loadAverage: os.loadavg(),
    rows,
  };
  await writeJsonAtomic(values.json, result);
  console.error(`# wrote ${values.json}`);
}

await main();
