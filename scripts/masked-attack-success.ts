/**
 * How often does SCAAT's masked attack change a trained model's prediction, as a function of the
 * mask's ratio q, the budget ε and the attack? This is what moves q_i in the ratio search (method.md
 * §2.5): where the attack almost never succeeds, q_i can only climb. The mask is the step's own
 * (vanilla gradient of the true-class logit, the floor(q·H·W) lowest pixels, every sample at the
 * same q); the attack is SCAAT's own (createScaatAttack with the method's defaults at that attack
 * and ε: FGSM-RS one step with α = 1.25ε, PGD-K with α = ε/4, random start, valid-box projection). Prints one markdown table per model: success rate (% of the evaluated images whose
 * prediction on x_adv is not the label, misclassified clean images included, as the search counts
 * them).
 *
 *   npx tsx scripts/masked-attack-success.ts RUN_DIR... [--data mnist] [--path DIR] [--limit 500]
 *       [--ratios 0.5,0.7,0.8,0.9,0.95] [--epsilons 0.3,0.5,1] [--attacks fgsm-rs,pgd] [--steps 7]
 *       [--seed 0] [--batch 250]
 */
import { scriptArgs } from './_args.js';
import * as tf from '@tensorflow/tfjs';
import { lowSaliencyMaskData, maskTensor } from '../src/attacks/masks.js';
import { openDataset } from '../src/datasets/registry.js';
import { toTensors } from '../src/datasets/dataset.js';
import { stratifiedSubset } from '../src/datasets/subset.js';
import { setupBackend } from '../src/engine/backend.js';
import { loadClassifier } from '../src/models/io.js';
import { parseNumber } from '../src/io/numbers.js';
import { resolveScaatConfig } from '../src/scaat/config.js';
import { createScaatAttack, maskSaliency } from '../src/scaat/step.js';

const USAGE = 'npx tsx scripts/masked-attack-success.ts RUN_DIR... [--data mnist] [--path DIR] [--limit 500] [--ratios 0.5,0.7,0.8,0.9,0.95] [--epsilons 0.3,0.5,1] [--attacks fgsm-rs,pgd] [--steps 7] [--seed 0] [--batch 250]';
const { values, positionals } = scriptArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string', default: 'mnist' },
    path: { type: 'string' },
    limit: { type: 'string', default: '500' },
    ratios: { type: 'string', default: '0.5,0.7,0.8,0.9,0.95' },
    epsilons: { type: 'string', default: '0.3,0.5,1' },
    attacks: { type: 'string', default: 'fgsm-rs,pgd' },
    steps: { type: 'string', default: '7' },
    seed: { type: 'string', default: '0' },
    batch: { type: 'string', default: '250' },
  },
}, USAGE);
const list = (name: string, v: string): number[] => v.split(',').map((s) => parseNumber(s, `--${name}`));
const ratios = list('ratios', values.ratios!);
const epsilons = list('epsilons', values.epsilons!);
const epsilonLabels = values.epsilons!.split(','); // as written ('8/255'), for the table
const attacks = values.attacks!.split(',');
const steps = parseNumber(values.steps!, '--steps');
const limit = parseNumber(values.limit!, '--limit');
const seed = parseNumber(values.seed!, '--seed');
const chunk = parseNumber(values.batch!, '--batch');
if (positionals.length === 0) {
  console.error(`usage: ${USAGE}`);
  process.exit(2);
}
for (const a of attacks) {
  if (a !== 'fgsm-rs' && a !== 'pgd') {
    console.error(`--attacks: expected fgsm-rs and/or pgd, got '${a}'`);
    process.exit(2);
  }
}

await setupBackend({});
const ds = await openDataset({ source: values.data!, split: 'test', ...(values.path ? { path: values.path } : {}) });
const indices = stratifiedSubset(await ds.labels(), limit, seed);
const config = resolveScaatConfig();

for (const run of positionals) {
  const clf = await loadClassifier(run);
  // failures[a][e][r]: images whose prediction on x_adv is not the label
  const failures = attacks.map(() => epsilons.map(() => ratios.map(() => 0)));
  let cleanWrong = 0;
  for (let start = 0; start < indices.length; start += chunk) {
    const { x, y } = toTensors(await ds.get(indices.subarray(start, start + chunk)));
    const [b, h, w] = x.shape;
    const s = maskSaliency(clf, x, y, config);
    const scores = s.dataSync();
    s.dispose();
    const wrong = (xs: tf.Tensor4D): number => tf.tidy(() => tf.notEqual(tf.argMax(clf.logits(xs), 1), y).sum().dataSync()[0]!);
    cleanWrong += wrong(x);
    ratios.forEach((q, r) => {
      const mask = maskTensor(lowSaliencyMaskData(scores, b, h * w, new Float32Array(b).fill(q)), b, h, w);
      attacks.forEach((name, a) => {
        epsilons.forEach((eps, e) => {
          const attack = createScaatAttack(resolveScaatConfig({ attack: name, epsilon: eps, steps }));
          const xAdv = attack(clf, x, y, { mask, seed: seed + start });
          failures[a]![e]![r]! += wrong(xAdv);
          xAdv.dispose();
        });
      });
      mask.dispose();
    });
    tf.dispose([x, y]);
  }
  const n = indices.length;
  console.log(`\n${run}: ${n} test images of ${values.data}, clean error ${((100 * cleanWrong) / n).toFixed(1)} %; masked attack success, %\n`);
  console.log(`| attack | ε | ${ratios.map((q) => `q = ${q}`).join(' | ')} |`);
  console.log(`|---|---|${ratios.map(() => '---:').join('|')}|`);
  attacks.forEach((name, a) => {
    epsilonLabels.forEach((eps, e) => {
      const label = name === 'pgd' ? `PGD-${steps}` : 'FGSM-RS';
      console.log(`| ${label} | ${eps} | ${failures[a]![e]!.map((f) => ((100 * f) / n).toFixed(1)).join(' | ')} |`);
    });
  });
  clf.model.dispose();
}
