/**
 * FGSM with random start ("Fast is better than free", Wong et al., 2020,
 * https://arxiv.org/abs/2001.03994): one PGD step from δ ~ U(−ε, ε) ⊙ M with α = 1.25ε, with the
 * projections of {@link pgd} (onto the ε-ball and, by default, the valid box [−x, 1 − x], at the
 * random start too, as Wong et al. do). The cheap variant of method.md §2.3. Contract: {@link AttackFn}.
 * @example
 * const attack = fgsm({epsilon: 8 / 255});
 * const xAdv = attack(classifier, x, y, {mask});   // caller disposes xAdv
 */
import { pgd } from './pgd.js';
import type { AttackFn, ValidBox } from './types.js';

/** Options of {@link fgsm}. */
export interface FgsmOptions {
  /** L∞ budget ε in [0, 1] pixel units. @default 8/255 */
  epsilon?: number;
  /** Step size α. @default 1.25·ε (Wong et al.) */
  alpha?: number;
  /** Random start δ ~ U(−ε, ε). @default true (without it, α = ε is plain FGSM) */
  randomStart?: boolean;
  /** 'project' δ into [−x, 1 − x] or only 'clip' x + δ (see {@link pgd}). @default 'project' */
  validBox?: ValidBox;
  /** Seed of the attack's generator for calls without a seed. @default 0 */
  seed?: number;
}

/** One-step L∞ attack with random start; see the module header. */
export function fgsm({ epsilon = 8 / 255, alpha, randomStart = true, validBox = 'project', seed = 0 }: FgsmOptions = {}): AttackFn {
  return pgd({ epsilon, alpha: alpha ?? 1.25 * epsilon, steps: 1, randomStart, validBox, seed });
}
