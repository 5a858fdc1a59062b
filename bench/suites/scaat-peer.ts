/**
 * The whole method against PyTorch (issue #14.2): scaat's SCAAT step (PGD-7 and FGSM-RS), PGD-AT
 * step and evaluation pass, timed side by side with the same passes of the PyTorch peer
 * (bench/peer_torch.py, written from method.md §2 and §4.4) on the networks of bench/networks.ts,
 * batch 128 of 32×32×3, SGD momentum (0.01, 0.9), method.md defaults (ε = 8/255, q_init 0.5,
 * γ 0.02, λ 1, no warm-up so q moves from the first step):
 *
 *   regular     one training step, CE(f(x)) (the engine suite's train pass): the unit of "× regular"
 *   scaat       createScaatTrainer().step: saliency → mask → masked PGD-7 → CE + λ·CE_adv → ratio update
 *   scaat-fgsm  the same with attack 'fgsm-rs'
 *   scaat-shared  the same with 'fgsm-rs' and `sharedBackward` (2 passes: the clean training
 *               backward gives the mask's map and the attack's direction; train/_shared-pass.ts)
 *   scaat-onepass  attack 'noise', loss 'adv-only', saliencySource 'train-backward' (one training
 *               pass and the clean-accuracy forward; the map from the previous step's backward)
 *   scaat-kept  'fgsm-rs' with attackGradient 'train-backward': FGSM-RS along the previous step's
 *               sign(∂L/∂x_adv) (no attack pass; the saliency pass and the two training forwards)
 *   scaat-onepass-fgsm  the one-pass step with that adversary instead of noise: 'fgsm-rs',
 *               attackGradient and saliencySource 'train-backward', loss 'adv-only'
 *   scaat-twoforward  that adversary with the default loss 'clean+adv' and the map from the same
 *               backward (saliencySource 'train-backward'): the two training forwards and one backward
 *   pgd-at      pgdAtTrainer().step: whole-image PGD-7, the same loss
 *   evaluation  SmoothGrad-50 and IG-50 maps (library defaults), Σ_c|A| per pixel, then AOPC MoRF
 *               and LeRF of each map in the default regime (P = 1, L = 102 at 32², uniform fill),
 *               target = label: what `scaat evaluate` does per batch for these metrics
 *
 * Each round times scaat's passes, then runs the peer; a ratio (scaat / PyTorch) is taken per
 * round and the median over rounds reported with its range, as the engine suite does. Per side,
 * each step is also given as a ratio to that side's regular step (item 1's table).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/engine/random.js';
import { aopc } from '../../src/metrics/aopc.js';
import { fromLayersModel } from '../../src/models/classifier.js';
import type { Classifier } from '../../src/models/classifier.js';
import { integratedGradients } from '../../src/saliency/integrated-gradients.js';
import { toSaliencyMap } from '../../src/saliency/postprocess.js';
import { smoothGrad } from '../../src/saliency/smooth-grad.js';
import { vanillaGradient } from '../../src/saliency/vanilla-gradient.js';
import { createScaatTrainer } from '../../src/scaat/trainer.js';
import { pgdAtTrainer, resolvePgdAtOptions } from '../../src/train/pgd-at.js';
import type { Trainer } from '../../src/train/types.js';
import { NETWORKS } from '../networks.js';
import { markdownTable, median, timeIt } from '../_common.js';
import { passFunctions, runPeer } from './engine.js';
import type { PeerResult } from './engine.js';

export const BATCH = 128;
/** The passes, in table order; the peer's names for them (peer_torch.py). */
export const PEER_PASSES = ['regular', 'scaat', 'scaat-fgsm', 'scaat-shared', 'scaat-onepass', 'scaat-kept', 'scaat-onepass-fgsm', 'scaat-twoforward', 'pgd-at', 'evaluation'] as const;
export type PeerPass = (typeof PEER_PASSES)[number];
const PEER_NAME: Record<PeerPass, string> = { regular: 'train', scaat: 'scaat', 'scaat-fgsm': 'scaat-fgsm', 'scaat-shared': 'scaat-shared', 'scaat-onepass': 'scaat-onepass', 'scaat-kept': 'scaat-kept', 'scaat-onepass-fgsm': 'scaat-onepass-fgsm', 'scaat-twoforward': 'scaat-twoforward', 'pgd-at': 'pgd-at', evaluation: 'evaluation' };
/** Training steps (their "× regular" is shown); the evaluation pass is not one. */
const STEPS: ReadonlySet<PeerPass> = new Set(['regular', 'scaat', 'scaat-fgsm', 'scaat-shared', 'scaat-onepass', 'scaat-kept', 'scaat-onepass-fgsm', 'scaat-twoforward', 'pgd-at']);

export interface ScaatPeerOptions {
  readonly networks: readonly string[];
  readonly passes: readonly PeerPass[];
  readonly reps: number;
  readonly warmup: number;
  readonly rounds: number;
  /** Skip the PyTorch peer (scaat's times only). */
  readonly noPeer: boolean;
  readonly peerThreads: number;
  readonly log: (line: string) => void;
}

export interface ScaatPeerRow {
  readonly network: string;
  readonly pass: PeerPass;
  /** Median over rounds of each round's median ms. */
  readonly scaatMs: number;
  readonly peerMs: number;
  /** Median over rounds of scaat / PyTorch, and its range (NaN without the peer). */
  readonly ratio: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  /** Step time / the same side's regular step (median over rounds; NaN for the evaluation pass or without 'regular'). */
  readonly scaatPerRegular: number;
  readonly peerPerRegular: number;
}

/** The SCAAT passes: their options over the method's defaults. */
const SCAAT_PASSES: Partial<Record<PeerPass, Readonly<Record<string, unknown>>>> = {
  scaat: {},
  'scaat-fgsm': { attack: 'fgsm-rs' },
  'scaat-shared': { attack: 'fgsm-rs', sharedBackward: true },
  'scaat-onepass': { attack: 'noise', loss: 'adv-only', saliencySource: 'train-backward' },
  'scaat-kept': { attack: 'fgsm-rs', attackGradient: 'train-backward' },
  'scaat-onepass-fgsm': { attack: 'fgsm-rs', attackGradient: 'train-backward', loss: 'adv-only', saliencySource: 'train-backward' },
  'scaat-twoforward': { attack: 'fgsm-rs', attackGradient: 'train-backward', saliencySource: 'train-backward' },
};

/** A SCAAT trainer with the method's defaults at ε = 8/255 and no q warm-up, over the batch's 128 samples. */
function scaatTrainer(extra: Readonly<Record<string, unknown>>): Trainer {
  return createScaatTrainer({ trainSize: BATCH, config: [{ epsilon: 8 / 255, warmupEpochs: 0 }, extra] });
}

/**
 * SmoothGrad-50 and IG-50 maps, then AOPC MoRF and LeRF of each (method.md §4.4 defaults); returns
 * a number that depends on every result (so nothing is skipped).
 */
export function evaluationPass(clf: Classifier, x: tf.Tensor4D, y: tf.Tensor1D): number {
  let out = 0;
  for (const method of [smoothGrad(vanillaGradient(), { seed: 1 }), integratedGradients()]) {
    const s = tf.tidy(() => toSaliencyMap(method(clf, x, y, { seed: 1 }), 'sum-abs'));
    const scores = s.dataSync();
    s.dispose();
    for (const order of ['morf', 'lerf'] as const) out += aopc(clf, x, y, scores, { order, seed: 1 }).values[0]!;
  }
  return out;
}

/** The timed passes of scaat on one network (a fresh model and optimizer per pass). */
function scaatPasses(build: () => tf.LayersModel, passes: readonly PeerPass[], o: ScaatPeerOptions): Partial<Record<PeerPass, number[]>> {
  const x = tf.randomUniform([BATCH, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.randomUniform([BATCH], 0, 10, 'int32', 2) as tf.Tensor1D;
  const onehot = tf.oneHot(y, 10);
  const index = Int32Array.from({ length: BATCH }, (_, i) => i);
  const ms: Partial<Record<PeerPass, number[]>> = {};
  try {
    for (const p of passes) {
      const model = build();
      const clf = fromLayersModel(model);
      const optimizer = tf.train.momentum(0.01, 0.9);
      const rng = new Rng(`scaat-peer/${p}`);
      let step = 0;
      const scaatOptions = SCAAT_PASSES[p];
      const trainer = scaatOptions ? scaatTrainer(scaatOptions) : p === 'pgd-at' ? pgdAtTrainer(resolvePgdAtOptions({})) : undefined;
      const fn = trainer
        ? () => void trainer.step({ x, y, index }, { classifier: clf, optimizer, epoch: 0, step: step++, rng })
        : p === 'regular'
          ? passFunctions(model, x, onehot, optimizer).train
          : () => void evaluationPass(clf, x, y);
      ms[p] = timeIt(fn, o);
      o.log(`  ${p.padEnd(10)} median ${median(ms[p]).toFixed(0)} ms  (${ms[p].map((t) => t.toFixed(0)).join(', ')})`);
      optimizer.dispose();
      model.dispose();
    }
  } finally {
    tf.dispose([x, y, onehot]);
  }
  return ms;
}

/** Runs the rounds and returns the rows (see the module header). */
export function scaatPeerComparison(o: ScaatPeerOptions): { rows: ScaatPeerRow[]; peer: string; table: string } {
  const nets = NETWORKS.filter((n) => o.networks.includes(n.name));
  const scaatRounds: Array<Record<string, Partial<Record<PeerPass, number[]>>>> = [];
  const peerRounds: Array<PeerResult<string> | string> = [];
  for (let round = 0; round < o.rounds; round++) {
    const scaat: Record<string, Partial<Record<PeerPass, number[]>>> = {};
    for (const net of nets) {
      o.log(`# scaat ${net.name}${o.rounds > 1 ? ` (round ${round + 1}/${o.rounds})` : ''}`);
      scaat[net.name] = scaatPasses(() => net.build(1), o.passes, o);
    }
    scaatRounds.push(scaat);
    peerRounds.push(o.noPeer ? 'disabled with --no-peer' : runPeer(nets.map((n) => n.name), o.passes.map((p) => PEER_NAME[p]), o, o.peerThreads));
  }
  const peerOk = peerRounds.every((r) => typeof r !== 'string');
  const peerMs = (r: PeerResult<string> | string, net: string, p: PeerPass): number => {
    const t = typeof r === 'string' ? undefined : r.results[net]?.[`${PEER_NAME[p]}_ms`];
    return t ? median(t) : NaN;
  };
  const rows: ScaatPeerRow[] = [];
  for (const net of nets) {
    for (const p of o.passes) {
      const ours = scaatRounds.map((r) => median(r[net.name]![p]!));
      const theirs = peerRounds.map((r) => peerMs(r, net.name, p));
      const ratios = theirs.map((t, i) => ours[i]! / t).filter((r) => Number.isFinite(r));
      const perRegular = (xs: number[], reg: number[]) => (STEPS.has(p) && o.passes.includes('regular') ? median(xs.map((v, i) => v / reg[i]!)) : NaN);
      rows.push({
        network: net.name,
        pass: p,
        scaatMs: median(ours),
        peerMs: peerOk ? median(theirs) : NaN,
        ratio: ratios.length ? median(ratios) : NaN,
        ratioMin: ratios.length ? Math.min(...ratios) : NaN,
        ratioMax: ratios.length ? Math.max(...ratios) : NaN,
        scaatPerRegular: perRegular(ours, scaatRounds.map((r) => median(r[net.name]!.regular ?? [NaN]))),
        peerPerRegular: peerOk ? perRegular(theirs, peerRounds.map((r) => peerMs(r, net.name, 'regular'))) : NaN,
      });
    }
  }
  const peerName = peerOk ? `PyTorch ${(peerRounds[0] as PeerResult<string>).torch} (${(peerRounds[0] as PeerResult<string>).threads} thr)` : 'PyTorch';
  const f = (v: number, d: number, unit = '') => (Number.isFinite(v) ? `${v.toFixed(d)}${unit}` : '–');
  const header = ['network', 'pass', 'scaat ms', `${peerName} ms`, 'scaat / PyTorch', 'ratio per round', 'scaat × regular', 'PyTorch × regular'];
  const table = [
    `SCAAT vs PyTorch, batch ${BATCH}, 32×32×3, median of ${o.reps} after ${o.warmup} warm-up, ${o.rounds} round(s) (ms and ratios: medians over rounds)`,
    '',
    markdownTable(
      header,
      rows.map((r) => [r.network, r.pass, f(r.scaatMs, 0), f(r.peerMs, 0), f(r.ratio, 2, '×'),
        Number.isFinite(r.ratio) ? `${r.ratioMin.toFixed(2)}–${r.ratioMax.toFixed(2)}×` : '–', f(r.scaatPerRegular, 2, '×'), f(r.peerPerRegular, 2, '×')]),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    ...(peerOk ? [] : ['', `PyTorch peer not available: ${peerRounds.find((r) => typeof r === 'string')}. Ratios to PyTorch are not shown.`]),
  ].join('\n');
  return { rows, peer: peerOk ? peerName : String(peerRounds.find((r) => typeof r === 'string')), table };
}
