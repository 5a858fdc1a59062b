/**
 * One name per attack, no aliases: 'pgd' and 'fgsm-rs' are the attacks registry's keys and the only
 * names the registry, the pgd-at trainer and the SCAAT config accept. The old alias 'fgsm' (in a
 * config file written before 0.1) is refused with a ConfigError that names the key and says 'fgsm-rs'.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATTACKS, isAttackName, resolveAttackName } from '../../src/attacks/registry.js';
import { ConfigError } from '../../src/errors.js';
import { effectiveAlpha, effectiveSteps, resolveScaatConfig } from '../../src/scaat/config.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { resolvePgdAtOptions } from '../../src/train/pgd-at.js';
import { optionsResolver } from '../../src/train/registry.js';
import { runCli } from '../fixtures/cli.js';

const LISTED = /one of 'pgd', 'fgsm-rs', 'noise', got/;

describe('attack names', () => {
  it("accept exactly the registry's names: 'fgsm-rs' (α = 1.25ε) and 'pgd' (α = ε/4)", () => {
    const eps = 0.2;
    expect([...ATTACKS.keys()]).toEqual(['pgd', 'fgsm-rs', 'noise']);
    expect(resolveAttackName('fgsm-rs')).toBe('fgsm-rs');
    expect(resolvePgdAtOptions({ attack: 'fgsm-rs', epsilon: eps })).toMatchObject({ attack: 'fgsm-rs', alpha: 1.25 * eps });
    expect(resolvePgdAtOptions({ epsilon: eps })).toMatchObject({ attack: 'pgd', alpha: eps / 4 });
    expect(resolveScaatConfig({ attack: 'fgsm-rs', epsilon: eps }).attack).toBe('fgsm-rs');
  });

  it("'noise' needs the random start wherever it is configured (SCAAT and the whole-image control), takes no step (α 0, K 0)", () => {
    expect(() => resolveScaatConfig({ attack: 'noise', randomStart: false })).toThrow(/'randomStart' must be true with attack 'noise'/);
    expect(() => resolvePgdAtOptions({ attack: 'noise', randomStart: false })).toThrow(/'randomStart' must be true with attack 'noise'/);
    expect(effectiveSteps(resolveScaatConfig({ attack: 'noise' }))).toBe(0);
    expect(effectiveAlpha(resolveScaatConfig({ attack: 'noise', epsilon: 0.3 }))).toBe(0);
    expect(resolvePgdAtOptions({ attack: 'noise', epsilon: 0.3 }).alpha).toBe(0);
  });

  it("'fgsm-rs' needs the random start in SCAAT and in the whole-image control alike; 'noise' takes no attack step to re-mask between", () => {
    expect(() => resolveScaatConfig({ attack: 'fgsm-rs', randomStart: false })).toThrow(/'randomStart' must be true with attack 'fgsm-rs'/);
    expect(() => resolvePgdAtOptions({ attack: 'fgsm-rs', randomStart: false })).toThrow(ConfigError);
    expect(() => resolvePgdAtOptions({ attack: 'fgsm-rs', randomStart: false })).toThrow(/trainerOptions\.pgd-at: 'randomStart' must be true with attack 'fgsm-rs'/);
    expect(resolvePgdAtOptions({ attack: 'pgd', randomStart: false }).randomStart).toBe(false);
    expect(() => resolveScaatConfig({ attack: 'noise', remaskEveryAttackStep: true })).toThrow(/'remaskEveryAttackStep' re-masks between attack steps, and attack 'noise' takes none/);
    expect(resolveScaatConfig({ attack: 'pgd', remaskEveryAttackStep: true }).remaskEveryAttackStep).toBe(true);
  });

  it.each(['fgsm', 'FGSM-RS', 'cw', ''])("refuse %j in the registry, pgd-at and SCAAT, naming the key and listing 'fgsm-rs'", (name) => {
    expect(isAttackName(name)).toBe(false);
    expect(() => resolveAttackName(name, '--attack')).toThrow(new RegExp(`^--attack: expected ${LISTED.source} ${JSON.stringify(name)}$`));
    expect(() => resolvePgdAtOptions({ attack: name })).toThrow(ConfigError);
    expect(() => resolvePgdAtOptions({ attack: name })).toThrow(/trainerOptions\.pgd-at: 'attack' must be one of 'pgd', 'fgsm-rs', 'noise', got/);
    expect(() => resolveScaatConfig({ attack: name })).toThrow(ConfigError);
    expect(() => resolveScaatConfig({ attack: name })).toThrow(/'attack' must be one of 'pgd', 'fgsm-rs', 'noise', got/);
  });

  it("refuse an old config with 'fgsm' for either trainer, naming the key and saying 'fgsm-rs'", () => {
    const resolver = optionsResolver(ALL_TRAINERS);
    for (const trainer of ['scaat', 'pgd-at']) {
      const layer = { source: 'old.json', values: { trainer, trainerOptions: { [trainer]: { attack: 'fgsm', epsilon: 0.3 } } } };
      expect(() => resolveConfig([layer], resolver)).toThrow(ConfigError);
      expect(() => resolveConfig([layer], resolver)).toThrow(new RegExp(`trainerOptions\\.${trainer}: 'attack' must be one of 'pgd', 'fgsm-rs', 'noise', got 'fgsm'`));
    }
  });

  it("`scaat train --config old.json` with 'fgsm' exits 2 with that message, writing nothing", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-attack-names-'));
    try {
      const config = path.join(dir, 'old.json');
      writeFileSync(config, JSON.stringify({ trainerOptions: { scaat: { attack: 'fgsm' } } }));
      const out = path.join(dir, 'run');
      const r = await runCli(['train', '--trainer', 'scaat', '--data', 'synthetic', '--config', config, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/trainerOptions\.scaat: 'attack' must be one of 'pgd', 'fgsm-rs', 'noise', got 'fgsm'/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
