/**
 * The attacks by name. One canonical name per attack (the registry key); other accepted spellings
 * are aliases resolved here and nowhere else ({@link resolveAttackName}), so the SCAAT config, the
 * pgd-at trainer and the CLI all agree:
 *
 *   pgd       L∞ PGD, K steps (method.md §2.3)
 *   fgsm-rs   FGSM with a random start, α = 1.25ε by default (Wong et al. 2020); alias: fgsm
 *
 * @example
 * resolveAttackName('fgsm');                          // 'fgsm-rs'
 * const attack = ATTACKS.get(resolveAttackName('fgsm'))!.create({ epsilon: 8 / 255 });
 */
import { ConfigError } from '../errors.js';
import { fgsm } from './fgsm.js';
import type { FgsmOptions } from './fgsm.js';
import { pgd } from './pgd.js';
import type { PgdOptions } from './pgd.js';
import type { AttackFn } from './types.js';

/** A canonical attack name (a key of {@link ATTACKS}). */
export type AttackName = 'pgd' | 'fgsm-rs';

/** A registered attack: display label and a factory from options. */
export interface AttackSpec {
  readonly label: string;
  create(options?: PgdOptions & FgsmOptions): AttackFn;
}

export const ATTACKS: ReadonlyMap<AttackName, AttackSpec> = new Map<AttackName, AttackSpec>([
  ['pgd', { label: 'PGD (L∞)', create: (o = {}) => pgd(o) }],
  ['fgsm-rs', { label: 'FGSM, random start', create: (o = {}) => fgsm(o) }],
]);

/** Other accepted spellings → canonical name. */
export const ATTACK_ALIASES: ReadonlyMap<string, AttackName> = new Map<string, AttackName>([['fgsm', 'fgsm-rs']]);

/** The canonical name of `name` (itself or an alias), or undefined when it names no attack. */
export function canonicalAttackName(name: unknown): AttackName | undefined {
  if (typeof name !== 'string') return undefined;
  if (ATTACKS.has(name as AttackName)) return name as AttackName;
  return ATTACK_ALIASES.get(name);
}

/** Human list of the accepted names: `'pgd', 'fgsm-rs' (alias 'fgsm')`. */
export function describeAttackNames(): string {
  const aliases = (n: AttackName): string[] => [...ATTACK_ALIASES].filter(([, c]) => c === n).map(([a]) => `'${a}'`);
  return [...ATTACKS.keys()].map((n) => (aliases(n).length ? `'${n}' (alias ${aliases(n).join(', ')})` : `'${n}'`)).join(', ');
}

/**
 * The canonical name of `name`.
 * @throws ConfigError naming `where`, listing the accepted names, when `name` names no attack.
 */
export function resolveAttackName(name: unknown, where = 'attack'): AttackName {
  const c = canonicalAttackName(name);
  if (c === undefined) throw new ConfigError(`${where}: expected one of ${describeAttackNames()}, got ${JSON.stringify(name)}`);
  return c;
}
