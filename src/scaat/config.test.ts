import { describe, expect, it } from 'vitest';
import { DEFAULT_SCAAT_CONFIG, effectiveAlpha, effectiveRatioStep, effectiveSteps, resolveScaatConfig } from './config.js';
import { ConfigError } from '../errors.js';

describe('SCAAT config', () => {
  it('has the defaults of method.md §2', () => {
    const c = resolveScaatConfig();
    expect(c).toMatchObject({
      attack: 'pgd',
      epsilon: 8 / 255,
      steps: 7,
      randomStart: true,
      validBox: 'project',
      remaskEveryAttackStep: false,
      saliencyAggregation: 'sum-abs',
      saliencyTarget: 'label',
      saliencySource: 'fresh',
      loss: 'clean+adv',
      lambda: 1,
      ratioSearch: 'ramp',
      ratioInit: 0.5,
      ratioMin: 0.05,
      ratioMax: 0.95,
      ratioStep: 0.02,
      warmupEpochs: 2,
    });
    expect(effectiveAlpha(c)).toBeCloseTo(2 / 255, 15);
    expect(effectiveSteps(c)).toBe(7);
  });

  it('derives FGSM-RS: one step with α = 1.25ε', () => {
    const c = resolveScaatConfig({ attack: 'fgsm-rs', epsilon: 0.3 });
    expect(effectiveAlpha(c)).toBeCloseTo(0.375, 15);
    expect(effectiveSteps(c)).toBe(1);
    expect(effectiveAlpha(resolveScaatConfig({ alpha: 0.1 }))).toBe(0.1);
  });

  it("resolves the ratio search: 'bisect', and ratioStep 'auto' = (q_max − q_min)/(epochs − warm-up) rounded up to 1e-6", () => {
    const c = resolveScaatConfig({ ratioSearch: 'bisect', ratioStep: 'auto' });
    expect(c.ratioSearch).toBe('bisect');
    expect(c.ratioStep).toBe('auto');
    expect(effectiveRatioStep(c, 7)).toBe(0.18); // 0.9/5
    expect(effectiveRatioStep(c, 9)).toBe(0.128572); // 0.9/7 = 0.1285714… rounded up
    expect(effectiveRatioStep({ ...c, ratioMin: 0.2, ratioMax: 0.8, warmupEpochs: 0 }, 4)).toBe(0.15);
    expect(effectiveRatioStep(c, 2)).toBe(0.9); // no epoch after warm-up: one epoch's worth
    // the loop's clean epochs (regular steps) count as warm-up when they outlast it
    expect(effectiveRatioStep(c, 7, 4)).toBe(0.3); // 0.9/3
    expect(effectiveRatioStep(c, 7, 1)).toBe(0.18); // warm-up (2) is the longer
    expect(effectiveRatioStep(resolveScaatConfig({ ratioStep: '0.05' }))).toBe(0.05);
    expect(() => effectiveRatioStep(c)).toThrow(/'ratioStep' 'auto' scales γ to the run's length and needs the run's number of epochs/);
    expect(() => effectiveRatioStep(c, 0)).toThrow(ConfigError);
  });

  it('layers later over earlier and parses CLI strings', () => {
    const c = resolveScaatConfig({ epsilon: 0.1, steps: 3 }, { epsilon: '8/255', randomStart: 'false', lambda: '0.5' });
    expect(c.epsilon).toBeCloseTo(8 / 255, 15);
    expect(c.steps).toBe(3);
    expect(c.randomStart).toBe(false);
    expect(c.lambda).toBe(0.5);
    expect(resolveScaatConfig({ validBox: 'clip' }).validBox).toBe('clip');
    expect(DEFAULT_SCAAT_CONFIG.epsilon).toBeCloseTo(8 / 255, 15); // defaults untouched
  });

  it.each([
    [{ epsilom: 0.1 }, /unknown key 'epsilom'/],
    [{ epsilon: 0 }, "scaat config: 'epsilon' must be a number in (0, 1] (pixel units; 1 = unbounded inside the mask), got 0"],
    [{ epsilon: 'big' }, "scaat config: 'epsilon' must be a number in (0, 1] (pixel units; 1 = unbounded inside the mask), got 'big'"],
    [{ epsilon: '1/0' }, "scaat config: 'epsilon' must be a number in (0, 1] (pixel units; 1 = unbounded inside the mask), got '1/0'"],
    [{ steps: 2.5 }, /'steps' must be an integer ≥ 1/],
    [{ attack: 'cw' }, /'attack' must be one of 'pgd', 'fgsm-rs', 'noise', got 'cw'/],
    [{ randomStart: 1 }, "scaat config: 'randomStart' must be true or false, got 1"],
    [{ validBox: true }, /'validBox' must be one of 'project', 'clip', got true/],
    [{ ratioMin: 0.6, ratioMax: 0.5 }, /'ratioMin' \(0.6\) must be ≤ 'ratioMax' \(0.5\)/],
    [{ attack: 'fgsm-rs', randomStart: false }, /'randomStart' must be true with attack 'fgsm-rs'/],
    [{ alpha: 'fast' }, "scaat config: 'alpha' must be a number > 0 or 'auto', got 'fast'"],
    [{ alpha: '0' }, "scaat config: 'alpha' must be a number > 0 or 'auto', got '0'"],
    [{ warmupEpochs: -1 }, /'warmupEpochs' must be an integer ≥ 0/],
    [{ ratioSearch: 'binary' }, /'ratioSearch' must be one of 'ramp', 'bisect', got 'binary'/],
    [{ ratioStep: 'fast' }, "scaat config: 'ratioStep' must be a number in [0, 1] or 'auto', got 'fast'"],
    [{ ratioStep: 1.5 }, "scaat config: 'ratioStep' must be a number in [0, 1] or 'auto', got 1.5"],
  ])('rejects %j with a ConfigError naming the key', (layer, message) => {
    expect(() => resolveScaatConfig(layer)).toThrow(ConfigError);
    expect(() => resolveScaatConfig(layer)).toThrow(message);
  });
});
