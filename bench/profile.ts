/**
 * Per-kernel time inside one pass of a benchmark network (bench/networks.ts, batch 128) on the
 * wasm backend as scaat sets it up (with the native accelerator when built): every registered wasm
 * kernel is wrapped with a timer, so the table says where a step's time goes. Kernel times are
 * wall time of the synchronous kernel call; "other" is the pass's time outside kernels (TF.js's
 * engine, tape and tidy bookkeeping).
 *
 *   npx tsx bench/profile.ts [--network small-cnn|resnet20] [--passes train,gradient,gradient-input-only,inference]
 *                            [--reps 5] [--top 16] [--by-shape Add,Relu]
 *
 * --by-shape lists the named kernels per input shapes (ms per call), e.g. to see which tensor
 * sizes a glue kernel runs on inside a network. The passes are those of bench/suites/engine.ts.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { machineSummary, setupBackend } from '../src/engine/backend.js';
import { NETWORKS } from './networks.js';
import { passFunctions } from './suites/engine.js';

const { values } = parseArgs({
  options: {
    network: { type: 'string', default: 'resnet20' },
    passes: { type: 'string', default: 'train,gradient-input-only,inference' },
    reps: { type: 'string', default: '5' },
    top: { type: 'string', default: '16' },
    'by-shape': { type: 'string', default: '' },
  },
});
const net = NETWORKS.find((n) => n.name === values.network);
if (!net) throw new Error(`--network: expected one of ${NETWORKS.map((n) => n.name).join(', ')}, got '${values.network}'`);
const reps = Number.parseInt(values.reps, 10);
const byShape = new Set(values['by-shape'].split(',').filter(Boolean));

await setupBackend({ backend: 'wasm' });
const model = net.build(1);
const x = tf.randomUniform([128, ...net.inputShape], 0, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([128], 0, net.numClasses, 'int32', 2) as tf.Tensor1D, net.numClasses);
const opt = tf.train.momentum(0.01, 0.9);

const totals = new Map<string, { ms: number; calls: number }>();
const perShape = new Map<string, number[]>();
for (const k of tf.getKernelsForBackend('wasm')) {
  const f = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      const t0 = performance.now();
      const out = f(args);
      const ms = performance.now() - t0;
      const e = totals.get(k.kernelName) ?? { ms: 0, calls: 0 };
      e.ms += ms;
      e.calls++;
      totals.set(k.kernelName, e);
      if (byShape.has(k.kernelName)) {
        const key = `${k.kernelName} ${Object.values(args.inputs).map((i) => JSON.stringify(i!.shape)).join(' ')}`;
        (perShape.get(key) ?? perShape.set(key, []).get(key)!).push(ms);
      }
      return out;
    },
  });
}

const passes: Record<string, () => void> = passFunctions(model, x, y, opt);

console.log(`# ${net.name}, batch 128, ${machineSummary()}, ${new Date().toISOString()}, mean of ${reps} after 2 warm-ups`);
for (const name of values.passes.split(',')) {
  const pass = passes[name];
  if (!pass) throw new Error(`--passes: unknown pass '${name}' (train, gradient, gradient-input-only, inference)`);
  pass();
  pass();
  totals.clear();
  perShape.clear();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) pass();
  const total = (performance.now() - t0) / reps;
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
  const inKernels = rows.reduce((s, [, v]) => s + v.ms, 0) / reps;
  console.log(`\n${name}: ${total.toFixed(1)} ms per pass = kernels ${inKernels.toFixed(1)} + other ${(total - inKernels).toFixed(1)}`);
  console.log('| kernel | ms per pass | calls per pass |\n|---|---:|---:|');
  for (const [k, v] of rows.slice(0, Number.parseInt(values.top, 10))) {
    console.log(`| ${k} | ${(v.ms / reps).toFixed(1)} | ${(v.calls / reps).toFixed(0)} |`);
  }
  for (const [key, ms] of [...perShape].sort()) {
    const sorted = [...ms].sort((a, b) => a - b);
    console.log(`  ${key}: ${(ms.length / reps).toFixed(0)} calls, median ${sorted[sorted.length >> 1]!.toFixed(3)} ms`);
  }
}
