/**
 * The attacks by name: one name per attack (the registry key), no aliases, checked here and
 * nowhere else ({@link isAttackName}, {@link resolveAttackName}), so the SCAAT config, the pgd-at
 * trainer and the CLI accept the same names:
 *
 *   pgd       L∞ PGD, K steps (method.md §2.3)
 *   fgsm-rs   FGSM with a random start, α = 1.25ε by default (Wong et al. 2020)
 *   noise     no attack: the random start alone, δ ~ U(−ε, ε) (inside the mask), no gradient; the
 *             ablation that asks whether the adversary matters (method.md §2.3)
 *
 * @example
 * const attack = ATTACKS.get(resolveAttackName('fgsm-rs'))!.create({ epsilon: 8 / 255 });
 * resolveAttackName('fgsm');  // ConfigError: attack: expected one of 'pgd', 'fgsm-rs', 'noise', got "fgsm"
 */
import { ConfigError } from '../errors.js';
import { fgsm, FGSM_RS_ALPHA_FACTOR } from './fgsm.js';
import type { FgsmOptions } from './fgsm.js';
import { pgd } from './pgd.js';
import type { PgdOptions } from './pgd.js';
import type { AttackFn } from './types.js';

/** A canonical attack name (a key of {@link ATTACKS}). */
export type AttackName = 'pgd' | 'fgsm-rs' | 'noise';

/** A registered attack: display label and a factory from options. */
export interface AttackSpec {
  readonly label: string;
  create(options?: PgdOptions & FgsmOptions): AttackFn;
}

export const ATTACKS: ReadonlyMap<AttackName, AttackSpec> = new Map<AttackName, AttackSpec>([
  ['pgd', { label: 'PGD (L∞)', create: (o = {}) => pgd(o) }],
  ['fgsm-rs', { label: 'FGSM, random start', create: (o = {}) => fgsm(o) }],
  // PGD with no step: the same seeded draw as the others' random start, projected and masked
  ['noise', { label: 'uniform noise (no attack)', create: (o = {}) => pgd({ ...o, alpha: 0, steps: 0, randomStart: true }) }],
]);

/** Whether `name` is a key of {@link ATTACKS}. */
export function isAttackName(name: unknown): name is AttackName {
  return typeof name === 'string' && ATTACKS.has(name as AttackName);
}

/** Human list of the accepted names: `'pgd', 'fgsm-rs', 'noise'`. */
export function describeAttackNames(): string {
  return [...ATTACKS.keys()].map((n) => `'${n}'`).join(', ');
}

/**
 * `name` as an {@link AttackName}.
 * @throws ConfigError naming `where`, listing the accepted names, when `name` names no attack.
 */
export function resolveAttackName(name: unknown, where = 'attack'): AttackName {
  if (!isAttackName(name)) throw new ConfigError(`${where}: expected one of ${describeAttackNames()}, got ${JSON.stringify(name)}`);
  return name;
}

/**
 * The step size α of `attack` at budget ε when a config says 'auto': ε/4 for `pgd` (2/255 at
 * ε = 8/255, method.md §2.3), 1.25ε for `fgsm-rs` (Wong et al. 2020), 0 for `noise` (no step).
 * SCAAT's config and the pgd-at trainer both resolve 'auto' here, so the whole-image control steps
 * as SCAAT does.
 */
export function defaultAlpha(attack: AttackName, epsilon: number): number {
  return attack === 'fgsm-rs' ? FGSM_RS_ALPHA_FACTOR * epsilon : attack === 'noise' ? 0 : epsilon / 4;
}

/**
 * Why `attack` cannot run without its random start (`fgsm-rs` is FGSM with one; `noise` is nothing
 * else), or undefined where it can. SCAAT's config and the pgd-at trainer both check here, so the
 * whole-image control refuses what SCAAT refuses.
 */
export function randomStartIssue(attack: AttackName, randomStart: boolean): string | undefined {
  if (randomStart) return undefined;
  if (attack === 'fgsm-rs') return "'randomStart' must be true with attack 'fgsm-rs' (FGSM with random start), got false";
  if (attack === 'noise') return "'randomStart' must be true with attack 'noise' (the random start is all it adds), got false";
  return undefined;
}

/** The gradient steps `attack` takes: K = `steps` for `pgd`, 1 for `fgsm-rs`, 0 for `noise`. */
export function attackSteps(attack: AttackName, steps: number): number {
  return attack === 'fgsm-rs' ? 1 : attack === 'noise' ? 0 : steps;
}
