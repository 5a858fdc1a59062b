/**
 * One attack name everywhere: 'fgsm-rs' is canonical and 'fgsm' its alias, resolved by the attacks
 * registry alone, so the registry, the pgd-at trainer and the SCAAT config agree on both spellings.
 */
import { describe, expect, it } from 'vitest';
import { ATTACKS, resolveAttackName } from '../../src/attacks/registry.js';
import { ConfigError } from '../../src/errors.js';
import { resolveScaatConfig } from '../../src/scaat/config.js';
import { resolvePgdAtOptions } from '../../src/train/pgd-at.js';

describe('attack names', () => {
  it("resolve 'fgsm' and 'fgsm-rs' to 'fgsm-rs' (α = 1.25ε) in the registry, pgd-at and SCAAT", () => {
    const eps = 0.2;
    for (const name of ['fgsm', 'fgsm-rs']) {
      expect(resolveAttackName(name)).toBe('fgsm-rs');
      expect(ATTACKS.has(resolveAttackName(name))).toBe(true);
      const at = resolvePgdAtOptions({ attack: name, epsilon: eps });
      expect([at.attack, at.alpha]).toEqual(['fgsm-rs', 1.25 * eps]);
      expect(resolveScaatConfig({ attack: name, epsilon: eps }).attack).toBe('fgsm-rs');
    }
    expect(resolvePgdAtOptions({ epsilon: eps })).toMatchObject({ attack: 'pgd', alpha: eps / 4 });
    expect(() => resolveAttackName('cw', '--attack')).toThrow(/--attack: expected one of 'pgd', 'fgsm-rs' \(alias 'fgsm'\), got "cw"/);
    expect(() => resolvePgdAtOptions({ attack: 'cw' })).toThrow(ConfigError);
  });
});
