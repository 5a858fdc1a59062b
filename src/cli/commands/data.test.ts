// `scaat data` end to end through the CLI's main(): output text, JSON, exit codes.
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../main.js';

describe('scaat data', () => {
  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    try {
      const code = await main(argv);
      return { code, out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it('inspect prints format, count, shape, classes and the label histogram', async () => {
    const text = await run(['data', 'inspect', 'synthetic:count=40,numClasses=4', '--split', 'train']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^synthetic · train\n {2}source {3}synthetic\(seed=0/);
    expect(text.out).toMatch(/count {4}40\n {2}shape {4}32×32×3/);
    expect(text.out).toMatch(/0 disk {5}10 {2}25\.0% █{20}/);
    const json = await run(['data', 'inspect', 'mnist', '--json']);
    const parsed = JSON.parse(json.out) as Array<{ split: string; count: number; labelHistogram: number[] }>;
    expect(parsed.map((p) => [p.split, p.count])).toEqual([['train', 60000], ['test', 10000]]);
    expect(parsed[1]!.labelHistogram[1]).toBe(1135);
  });

  it('exits 3 with a named error on bad input and 2 on a bad option', async () => {
    const missing = await run(['data', 'inspect', path.join(os.tmpdir(), 'scaat-no-such-dataset')]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/DataError: dataset: expected .*scaat-no-such-dataset to exist, found nothing there/);
    const bad = await run(['data', 'inspect', 'synthetic:numClasses=40']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/ConfigError: synthetic: expected numClasses an integer in \[2, 8\], got 40/);
  });
});
