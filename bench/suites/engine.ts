/**
 * Engine suite: ms per batch of 128 on the wasm backend for the passes scaat runs, on the networks
 * of bench/networks.ts, side by side with the PyTorch peer (bench/peer_torch.py) when available.
 *
 *   train      SGD momentum (lr 0.01, 0.9): forward in training mode, softmax cross-entropy,
 *              backward, update (optimizer.minimize)
 *   gradient   vanilla gradient: ∂(Σ true-class logits)/∂x in inference mode (tf.grad)
 *   gradient-input-only  the same inside inputGradientOnly (src/engine/grad-scope.ts: conv filter
 *              gradients skipped), as the saliency methods and the attacks run it
 *   inference  model.apply(x) in inference mode
 *
 * Each number is the median of `reps` timed calls after `warmup` untimed ones; each call ends by
 * reading its result back (dataSync), so nothing is left queued.
 *
 *   npm run bench -- --suite engine [--reps 10] [--warmup 2] -- [--networks small-cnn] [--passes train]
 *                                                               [--backend wasm] [--no-peer] [--peer-threads 2]
 *                                                               [--rounds 1]
 *
 * With --rounds N, scaat and the peer are timed N times in turn; each row reports the medians over
 * rounds and the range of the per-round ratios (a shared machine's noise moves single rounds).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../src/engine/backend.js';
import { inputGradientOnly } from '../../src/engine/grad-scope.js';
import type { BackendName } from '../../src/engine/backend.js';
import { NETWORKS } from '../networks.js';
import { REPO_ROOT, markdownTable, median, timeIt } from '../_common.js';
import type { Suite, SuiteOptions } from '../_common.js';
import { scriptArgs } from '../../scripts/_args.js';

const BATCH = 128;
export const PASSES = ['train', 'gradient', 'gradient-input-only', 'inference'] as const;
export type Pass = (typeof PASSES)[number];

/** Debian's interpreter with python3-torch (not the first python3 on PATH). */
const PEER_PYTHON = '/usr/bin/python3';
/** glibc malloc settings for the peer: keep freed blocks instead of returning them to the OS each step. */
const PEER_ENV = { MALLOC_MMAP_THRESHOLD_: '33554432', MALLOC_TRIM_THRESHOLD_: '4000000000', MALLOC_TOP_PAD_: '536870912' };

/** What bench/peer_torch.py prints: per network, the trainable parameters and the ms of every timed call per pass. */
export interface PeerResult<P extends string = Pass> {
  readonly torch: string;
  readonly threads: number;
  readonly results: Record<string, { params: number } & Partial<Record<`${P}_ms`, number[]>>>;
}

function trainableParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

/**
 * The timed passes over `model` on the batch (x, one-hot labels), each ending with a read-back (so
 * nothing is left queued); `opt` is the train pass's optimizer. Shared with bench/profile.ts.
 */
export function passFunctions(model: tf.LayersModel, x: tf.Tensor, onehot: tf.Tensor, opt: tf.Optimizer): Record<Pass, () => void> {
  return {
    train: () => {
      const loss = opt.minimize(
        () => tf.losses.softmaxCrossEntropy(onehot, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
      loss.dataSync();
      loss.dispose();
    },
    gradient: () => tf.tidy(() => {
      tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(model.apply(xi) as tf.Tensor, onehot)))(x).dataSync();
    }),
    'gradient-input-only': () => tf.tidy(() => {
      inputGradientOnly(() => tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(model.apply(xi) as tf.Tensor, onehot)))(x)).dataSync();
    }),
    inference: () => tf.tidy(() => {
      (model.apply(x) as tf.Tensor).dataSync();
    }),
  };
}

/** Times the passes of one network on the current backend: ms per batch, every timed call. */
function benchNetwork(build: () => tf.LayersModel, passes: readonly Pass[], o: SuiteOptions) {
  const model = build();
  const x = tf.randomUniform([BATCH, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.randomUniform([BATCH], 0, 10, 'int32', 2) as tf.Tensor1D;
  const onehot = tf.oneHot(labels, 10);
  const opt = tf.train.momentum(0.01, 0.9);
  const fns = passFunctions(model, x, onehot, opt);
  const ms: Partial<Record<Pass, number[]>> = {};
  for (const p of passes) {
    ms[p] = timeIt(fns[p], o);
    console.error(`  ${p.padEnd(9)} median ${median(ms[p]).toFixed(0)} ms  (${ms[p].map((t) => t.toFixed(0)).join(', ')})`);
  }
  const params = trainableParams(model);
  tf.dispose([x, labels, onehot]);
  opt.dispose();
  model.dispose();
  return { params, ms };
}

/**
 * Runs bench/peer_torch.py (Debian's python3-torch, the malloc environment) on the networks and its
 * passes (peer_torch.py's names), with `reps` timed calls after `warmup`; the parsed JSON, or why not.
 * Shared with bench/suites/scaat.ts.
 */
export function runPeer<P extends string>(
  networks: readonly string[],
  passes: readonly P[],
  o: Pick<SuiteOptions, 'reps' | 'warmup'>,
  threads: number,
): PeerResult<P> | string {
  const script = path.join(REPO_ROOT, 'bench', 'peer_torch.py');
  if (!existsSync(PEER_PYTHON)) return `${PEER_PYTHON} not found (apt-get install python3-torch)`;
  const probe = spawnSync(PEER_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PEER_PYTHON} cannot import torch (apt-get install python3-torch)`;
  console.error(`# peer: ${PEER_PYTHON} ${path.relative(REPO_ROOT, script)} (torch, ${threads} threads)`);
  const r = spawnSync(PEER_PYTHON, [script, '--batch', String(BATCH), '--reps', String(o.reps), '--warmup', String(o.warmup),
    '--threads', String(threads), '--networks', networks.join(','), '--passes', passes.join(',')], {
    encoding: 'utf8', env: { ...process.env, ...PEER_ENV }, maxBuffer: 1 << 24,
  });
  if (r.status !== 0) return `peer_torch.py failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`;
  try {
    return JSON.parse(r.stdout) as PeerResult<P>;
  } catch {
    return `peer_torch.py printed no JSON: ${r.stdout.slice(0, 200)}`;
  }
}

export const engineSuite: Suite = {
  description: 'ms per batch of 128: train step / vanilla gradient / inference, small CNN and ResNet-20, vs PyTorch',
  async run(o) {
    const { values } = scriptArgs({
      args: [...o.args],
      options: {
        networks: { type: 'string', default: NETWORKS.map((n) => n.name).join(',') },
        passes: { type: 'string', default: PASSES.join(',') },
        backend: { type: 'string', default: 'wasm' },
        'no-peer': { type: 'boolean', default: false },
        'peer-threads': { type: 'string', default: '2' },
        rounds: { type: 'string', default: '1' },
      },
    }, 'npm run bench -- --suite engine [--reps 10] [--warmup 2] -- [--networks small-cnn,resnet20] [--passes train,…] [--backend wasm] [--no-peer] [--peer-threads 2] [--rounds 1]');
    const rounds = Number.parseInt(values.rounds, 10);
    if (!(rounds >= 1)) throw new Error(`engine suite: --rounds must be an integer >= 1, got ${values.rounds}`);
    const names = values.networks.split(',');
    const nets = NETWORKS.filter((n) => names.includes(n.name));
    const passes = PASSES.filter((p) => values.passes.split(',').includes(p));
    const unknown = names.filter((n) => !NETWORKS.some((m) => m.name === n));
    if (unknown.length || !nets.length || !passes.length) {
      throw new Error(`engine suite: --networks from ${NETWORKS.map((n) => n.name).join(',')}, --passes from ${PASSES.join(',')}; got ${values.networks} / ${values.passes}`);
    }
    // the peer's gradient pass (torch.autograd.grad w.r.t. x) computes ∂x only: it is the peer of both gradient rows
    const peerPasses = [...new Set(passes.map((p) => (p === 'gradient-input-only' ? 'gradient' : p)))];
    const info = await setupBackend({ backend: values.backend as BackendName });
    console.error(`# engine: ${info.name} (${info.threads} thread(s), accelerator ${info.accelerator}), ${info.machine}, batch ${BATCH}, median of ${o.reps} after ${o.warmup} warm-up, ${new Date().toISOString()}`);

    // Each round times scaat, then the peer; ratios are per round, so a noisy stretch of the
    // (shared) machine moves one round's ratio, not the reported median.
    const scaatRounds: Array<Record<string, ReturnType<typeof benchNetwork>>> = [];
    const peerRounds: Array<PeerResult | string> = [];
    for (let round = 0; round < rounds; round++) {
      const scaat: Record<string, ReturnType<typeof benchNetwork>> = {};
      for (const net of nets) {
        console.error(`# scaat ${net.name}${rounds > 1 ? ` (round ${round + 1}/${rounds})` : ''}`);
        scaat[net.name] = benchNetwork(() => net.build(1), passes, o);
      }
      scaatRounds.push(scaat);
      peerRounds.push(values['no-peer'] ? 'disabled with --no-peer' : runPeer(nets.map((n) => n.name), peerPasses, o, Number(values['peer-threads'])));
    }
    const scaat = scaatRounds[0]!;
    const peer = peerRounds[0]!;
    const peerOk = peerRounds.every((r) => typeof r !== 'string');

    const rows: string[][] = [];
    for (const net of nets) {
      for (const p of passes) {
        // the peer's gradient pass (torch.autograd.grad w.r.t. x) computes ∂x only: it is both rows' peer
        const key = `${p === 'gradient-input-only' ? 'gradient' : p}_ms` as const;
        const ours = scaatRounds.map((r) => median(r[net.name]!.ms[p]!));
        const theirs = peerOk ? peerRounds.map((r) => (r as PeerResult).results[net.name]?.[key]).map((t) => (t ? median(t) : NaN)) : [];
        const ratios = theirs.map((t, i) => ours[i]! / t).filter((r) => Number.isFinite(r));
        const row = [net.name, p, median(ours).toFixed(0), ratios.length ? median(theirs).toFixed(0) : '–',
          ratios.length ? `${median(ratios).toFixed(2)}×` : '–'];
        if (rounds > 1) row.push(ratios.length ? `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×` : '–');
        rows.push(row);
      }
      const pr = peerOk ? (peer as PeerResult).results[net.name] : undefined;
      if (pr && pr.params !== scaat[net.name]!.params) {
        console.error(`# WARNING: ${net.name} has ${scaat[net.name]!.params} trainable parameters in scaat but ${pr.params} in PyTorch`);
      }
    }
    const peerCol = peerOk ? `PyTorch ${(peer as PeerResult).torch} (${(peer as PeerResult).threads} thr) ms` : 'PyTorch ms';
    const roundsNote = rounds > 1 ? `, ${rounds} rounds (ms and ratio: medians over rounds)` : '';
    console.log(`\nengine suite, batch ${BATCH}, ${info.name} ${info.threads} thread(s) (accelerator ${info.accelerator}), ${info.machine}, ${new Date().toISOString()}${roundsNote}`);
    const header = ['network', 'pass', 'scaat ms', peerCol, 'scaat / PyTorch', ...(rounds > 1 ? ['ratio per round'] : [])];
    console.log(markdownTable(header, rows, ['l', 'l', 'r', 'r', 'r', 'r'].slice(0, header.length) as Parameters<typeof markdownTable>[2]));
    console.log(peerOk ? '' : `\nPyTorch peer not available: ${peerRounds.find((r) => typeof r === 'string')}. Ratios are not shown.`);
    const msOf = (r: Record<string, ReturnType<typeof benchNetwork>>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { params: v.params, ms: v.ms, medianMs: Object.fromEntries(Object.entries(v.ms).map(([p, t]) => [p, median(t)])) }]));
    return {
      batch: BATCH, reps: o.reps, warmup: o.warmup, rounds,
      scaat: msOf(scaat),
      peer: peerOk ? peer : { unavailable: peerRounds.find((r) => typeof r === 'string') },
      ...(rounds > 1 ? { scaatRounds: scaatRounds.map(msOf), peerRounds } : {}),
    };
  },
};
