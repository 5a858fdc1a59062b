import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NpyReader, NpyWriter, encodeNpy, parseNpy, readNpy, writeNpy } from './npy.js';
import { DataError, ShapeError } from '../errors.js';
import { itRequires, REQUIREMENTS, SYSTEM_PYTHON } from '../../test/helpers/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A hand-made v1.0 file: header padded to 64 bytes, as NumPy writes it. */
function handMade(descr: string, shape: string, payload: Uint8Array, fortran = 'False'): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  dict = dict.padEnd(64 - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(10 + dict.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, dict.length & 0xff, dict.length >> 8]);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  out.set(payload, 10 + dict.length);
  return out;
}

describe('npy', () => {
  it('writes the header NumPy writes (64-byte aligned) and reads it back', () => {
    const bytes = encodeNpy(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const headerLen = bytes[8]! | (bytes[9]! << 8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(10, 10 + headerLen))).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    const back = parseNpy(bytes);
    expect(back.dtype).toBe('float32');
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseNpy(encodeNpy(Int32Array.from([7]), [1])).shape).toEqual([1]); // (1,) tuple
  });

  it('parses a Node Buffer (readFileSync) as its bytes: the elements only, not the header', () => {
    const file = path.join(dir, 'buffer.npy');
    writeFileSync(file, encodeNpy(Float32Array.from([0.5, -2, 7]), [3]));
    const buf = readFileSync(file); // Buffer: its slice() is a view, not a copy
    const r = parseNpy(buf, file);
    expect(r.data.length).toBe(3);
    expect(Array.from(r.data)).toEqual([0.5, -2, 7]);
    for (const dtype of [Int32Array, Float64Array, Uint8Array] as const) {
      writeFileSync(file, encodeNpy(dtype.from([1, 2, 3, 4]), [2, 2]));
      expect(Array.from(parseNpy(readFileSync(file), file).data)).toEqual([1, 2, 3, 4]);
    }
  });

  it('reads big-endian, Fortran-order, bool and int64 files', () => {
    const be = new Uint8Array(8);
    new DataView(be.buffer).setInt32(0, -2, false);
    new DataView(be.buffer).setInt32(4, 300, false);
    expect(Array.from(parseNpy(handMade('>i4', '(2,)', be)).data)).toEqual([-2, 300]);
    // Fortran order [[1, 2, 3], [4, 5, 6]] is stored column by column: 1 4 2 5 3 6
    const f = parseNpy(handMade('<f8', '(2, 3)', new Uint8Array(Float64Array.from([1, 4, 2, 5, 3, 6]).buffer), 'True'));
    expect(Array.from(f.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseNpy(handMade('|b1', '(3,)', Uint8Array.from([1, 0, 1]))).dtype).toBe('uint8');
    const i8 = parseNpy(handMade('<i8', '(2,)', new Uint8Array(BigInt64Array.from([5n, -9n]).buffer)));
    expect([i8.dtype, ...i8.data]).toEqual(['float64', 5, -9]);
  });

  it('rejects malformed files with a DataError naming the file', async () => {
    const bad = path.join(dir, 'bad.npy');
    writeFileSync(bad, 'not numpy');
    await expect(readNpy(bad)).rejects.toThrow(DataError);
    await expect(readNpy(bad)).rejects.toThrow(/bad\.npy: not a NumPy \.npy file/);
    const trunc = handMade('<f4', '(4,)', new Uint8Array(8));
    expect(() => parseNpy(trunc, 'trunc.npy')).toThrow(/trunc\.npy: truncated/);
    expect(() => parseNpy(handMade('<c8', '(1,)', new Uint8Array(8)))).toThrow(/unsupported dtype '<c8'/);
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(ShapeError);
  });

  it('streams rows in and out, atomically', async () => {
    const file = path.join(dir, 'stream.npy');
    const w = await NpyWriter.create(file, 'float32', [5, 2, 2]);
    await w.append(Float32Array.from({ length: 12 }, (_, i) => i));
    expect(existsSync(file)).toBe(false); // not before close
    await w.append(Float32Array.from({ length: 8 }, (_, i) => 12 + i));
    await w.close();
    const r = await NpyReader.open(file);
    expect(r.shape).toEqual([5, 2, 2]);
    expect(Array.from(await r.rows(3, 2))).toEqual(Array.from({ length: 8 }, (_, i) => 12 + i));
    await expect(r.rows(4, 2)).rejects.toThrow(ShapeError);
    await r.close();
    const short = await NpyWriter.create(path.join(dir, 'short.npy'), 'uint8', [3]);
    await short.append(new Uint8Array(2));
    await expect(short.close()).rejects.toThrow(/wrote 2 of 3/);
    expect(readdirSync(dir).filter((f) => f.includes('short'))).toEqual([]);
  });

  const python = SYSTEM_PYTHON;
  itRequires(REQUIREMENTS.numpy)('round-trips with NumPy (np.load / np.save)', async () => {
    const ours = path.join(dir, 'ours.npy');
    await writeNpy(ours, Float32Array.from([0.5, -1, 3.25, 7, 8, 9]), [1, 2, 3]);
    const theirs = path.join(dir, 'theirs.npy');
    const out = execFileSync(python, ['-c', `
import numpy as np
a = np.load(${JSON.stringify(ours)}); print(a.dtype, a.shape, a.sum())
np.save(${JSON.stringify(theirs)}, np.arange(24, dtype=np.int16).reshape(2, 3, 4)[:, ::-1].copy(order='F'))
`]).toString().trim();
    expect(out).toBe('float32 (1, 2, 3) 26.75');
    const t = await readNpy(theirs);
    expect(t.shape).toEqual([2, 3, 4]);
    // np.arange(24).reshape(2, 3, 4)[:, ::-1]: row (0, 0) is 8 9 10 11
    expect(Array.from(t.data.subarray(0, 4))).toEqual([8, 9, 10, 11]);
    expect(readFileSync(theirs).length).toBeGreaterThan(0);
  });
});
