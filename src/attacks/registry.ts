/**
 * The attacks by name (one name everywhere: CLI value = registry key = file name).
 */
import { fgsm } from './fgsm.js';
import type { FgsmOptions } from './fgsm.js';
import { pgd } from './pgd.js';
import type { PgdOptions } from './pgd.js';
import type { AttackFn } from './types.js';

/** A registered attack: display label and a factory from options. */
export interface AttackSpec {
  readonly label: string;
  create(options?: PgdOptions & FgsmOptions): AttackFn;
}

export const ATTACKS: ReadonlyMap<string, AttackSpec> = new Map<string, AttackSpec>([
  ['pgd', { label: 'PGD (L∞)', create: (o = {}) => pgd(o) }],
  ['fgsm', { label: 'FGSM, random start', create: (o = {}) => fgsm(o) }],
]);
