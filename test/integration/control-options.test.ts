// The report pairs SCAAT with its whole-image control from the runs' JSON (src/report is TF-free and
// imports no trainer), so it restates three facts of the trainers: which options the control takes
// over (scaat/config.ts pgdAtControlOptions), their defaults (both trainers' schemas) and α 'auto'
// (attacks/registry.ts defaultAlpha). Checked here against the trainers themselves.
import { describe, expect, it } from 'vitest';
import { ATTACKS, defaultAlpha } from '../../src/attacks/registry.js';
import type { AttackName } from '../../src/attacks/registry.js';
import { autoAlpha, CONTROL_STEP_DEFAULTS, CONTROL_STEP_OPTIONS, controlMismatch } from '../../src/report/control-comparison.js';
import { DEFAULT_SCAAT_CONFIG, pgdAtControlOptions, resolveScaatConfig } from '../../src/scaat/config.js';
import { PGD_AT_DEFAULTS, resolvePgdAtOptions } from '../../src/train/pgd-at.js';

describe("the report's reading of the fair control", () => {
  it('names the options pgdAtControlOptions carries over (less the memory cap of kept signs)', () => {
    const keys = Object.keys(pgdAtControlOptions(DEFAULT_SCAAT_CONFIG)).filter((k) => k !== 'attackGradientCacheMiB');
    expect([...keys].sort()).toEqual([...CONTROL_STEP_OPTIONS].sort());
  });

  it("has both trainers' defaults", () => {
    for (const k of CONTROL_STEP_OPTIONS) {
      expect(DEFAULT_SCAAT_CONFIG[k], `scaat.${k}`).toEqual(CONTROL_STEP_DEFAULTS[k]);
      expect(PGD_AT_DEFAULTS[k], `pgd-at.${k}`).toEqual(CONTROL_STEP_DEFAULTS[k]);
    }
  });

  it("resolves α 'auto' as the attacks do", () => {
    for (const attack of ATTACKS.keys()) for (const epsilon of [8 / 255, 0.1, 0.3, 1]) expect(autoAlpha(attack, epsilon)).toBeCloseTo(defaultAlpha(attack as AttackName, epsilon), 15);
  });

  it('finds every resolved SCAAT configuration and its control (as the trainers resolve them) paired, and a changed option not', () => {
    const variants: Array<Record<string, unknown>> = [
      {},
      { attack: 'fgsm-rs', epsilon: 0.3 },
      { attack: 'pgd', epsilon: '16/255', steps: 10, alpha: 0.01 },
      { attack: 'noise', loss: 'adv-only', saliencySource: 'train-backward' },
      { attack: 'fgsm-rs', attackGradient: 'train-backward', loss: 'adv-only', lambda: 3 },
      { attack: 'fgsm-rs', sharedBackward: true, validBox: 'clip' },
      { attack: 'pgd', randomStart: false, loss: 'clean+kl' },
    ];
    for (const v of variants) {
      const scaat = resolveScaatConfig(v);
      // the JSON a run writes: SCAAT's options as resolved (α may stay 'auto'), the control's with α a number
      const control = JSON.parse(JSON.stringify(resolvePgdAtOptions(pgdAtControlOptions(scaat)))) as Record<string, unknown>;
      const written = JSON.parse(JSON.stringify(scaat)) as Record<string, unknown>;
      expect(controlMismatch(written, control), JSON.stringify(v)).toEqual([]);
      expect(controlMismatch(written, { ...control, epsilon: (control['epsilon'] as number) * 2 })).toContain('epsilon');
      expect(controlMismatch(written, { ...control, attackGradient: scaat.attackGradient === 'fresh' ? 'train-backward' : 'fresh' })).toEqual(['attackGradient']);
    }
  });
});
