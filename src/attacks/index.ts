// Attacks produce perturbed inputs x_adv for a Classifier (L∞ PGD, FGSM with random start), with an
// optional pixel mask. They do not choose masks: `scaat/` builds them from saliency maps, and
// `masks.ts` turns saliency maps into masks. Public API of the attacks room (re-exports only).
export type { AttackFn, AttackCallOptions, ValidBox } from './types.js';
export { VALID_BOX_MODES } from './types.js';
export { pgd, resolvePgdOptions, batchCrossEntropy } from './pgd.js';
export type { PgdOptions, PgdConfig } from './pgd.js';
export { fgsm } from './fgsm.js';
export type { FgsmOptions } from './fgsm.js';
export { ATTACKS, describeAttackNames, isAttackName, resolveAttackName } from './registry.js';
export type { AttackName, AttackSpec } from './registry.js';
export { lowSaliencyMask, lowSaliencyMaskData, saliencyRanks, maskFromRanks, maskTensor, irrelevantCount, MAX_MASK_PIXELS } from './masks.js';
