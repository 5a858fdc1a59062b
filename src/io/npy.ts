/**
 * NumPy `.npy` files (format versions 1.0–3.0), so inputs, attributions and maps can be checked
 * against Python tools: `np.load('attributions.npy')` reads what {@link writeNpy} writes, and
 * {@link readNpy} reads what `np.save` writes.
 *
 * Layout: magic `\x93NUMPY`, version, header length (uint16 for 1.0, uint32 for 2.0/3.0), an
 * ASCII Python dict `{'descr': '<f4', 'fortran_order': False, 'shape': (N, H, W, C), }` padded
 * with spaces and a newline to a multiple of 64 bytes, then the raw little-endian data.
 *
 * Supported dtypes: float32/64, int8/16/32, uint8/16/32, bool ('|b1', read as uint8); either byte
 * order and Fortran order are read (converted to little-endian C order). int64 is read when every
 * value is a safe integer (as float64). Big files: {@link NpyReader} reads rows on demand and
 * {@link NpyWriter} streams rows to a temporary file that is renamed into place on `close()`.
 *
 * @example
 * await writeNpy('x.npy', new Float32Array(2 * 3), [2, 3]);
 * const { data, shape, dtype } = await readNpy('x.npy');   // Float32Array(6), [2, 3], 'float32'
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DataError, ShapeError } from '../errors.js';
import { tempName, writeFileAtomic } from './atomic.js';
import { trackTemporary } from './temp-files.js';

/** Element types scaat reads and writes. */
export type NpyDtype = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32';
/** The typed array of each dtype. */
export type NpyData = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

/** An array from or for a .npy file: C-order data and its shape. */
export interface NpyArray {
  readonly data: NpyData;
  readonly shape: readonly number[];
  readonly dtype: NpyDtype;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<NpyDtype, string> = {
  float32: '<f4', float64: '<f8', int8: '|i1', int16: '<i2', int32: '<i4', uint8: '|u1', uint16: '<u2', uint32: '<u4',
};
const CTOR = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array,
} as const;

/** The dtype of a typed array. */
export function dtypeOf(data: NpyData): NpyDtype {
  for (const [k, C] of Object.entries(CTOR)) if (data instanceof C) return k as NpyDtype;
  throw new ShapeError(`npy: unsupported array type ${Object.prototype.toString.call(data)}`);
}

/** The header bytes (magic through padding) for a C-order little-endian array. */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict0 = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // header length so that magic + version + length field + header is a multiple of 64 (NumPy ≥ 1.x)
  const padded = (pre: number): number => dict0.length + 1 + ((64 - ((pre + dict0.length + 1) % 64)) % 64);
  const version = padded(10) <= 0xffff ? 1 : 2;
  const pre = version === 1 ? 10 : 12;
  const dict = dict0.padEnd(padded(pre) - 1, ' ') + '\n';
  const out = new Uint8Array(pre + dict.length);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, dict.length, true);
  else view.setUint32(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[pre + i] = dict.charCodeAt(i);
  return out;
}

/** The bytes of a .npy file holding `data` with `shape` (C order). */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  checkShape(data.length, shape, 'encodeNpy');
  const header = npyHeader(dtypeOf(data), shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

interface ParsedHeader {
  dtype: NpyDtype | 'int64' | 'uint64' | 'bool';
  bigEndian: boolean;
  fortran: boolean;
  shape: number[];
  itemSize: number;
  dataOffset: number;
}

/** Parses the header of a .npy file from its first bytes. */
function parseHeader(bytes: Uint8Array, source: string): ParsedHeader {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw new DataError(`${source}: not a NumPy .npy file (bad magic)`);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new DataError(`${source}: unsupported .npy version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pre = major === 1 ? 10 : 12;
  if (bytes.length < pre) throw new DataError(`${source}: truncated .npy header`);
  const len = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (bytes.length < pre + len) throw new DataError(`${source}: truncated .npy header (expected ${len} header bytes)`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(pre, pre + len));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DataError(`${source}: malformed .npy header ${JSON.stringify(text.trim())}`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new DataError(`${source}: bad shape (${shapeText}) in .npy header`);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (!m) throw new DataError(`${source}: unsupported dtype '${descr}' (expected float, int, uint or bool)`);
  const [, order, kind, sizeText] = m;
  const size = Number(sizeText);
  const table: Record<string, ParsedHeader['dtype']> = {
    f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64', u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64', b1: 'bool',
  };
  const dtype = table[`${kind}${size}`];
  if (!dtype) throw new DataError(`${source}: unsupported dtype '${descr}'`);
  return { dtype, bigEndian: order === '>', fortran: fortran === 'True', shape, itemSize: size, dataOffset: pre + len };
}

/** Converts raw element bytes to a typed array of the (mapped) dtype, little-endian. */
function decodeElements(h: ParsedHeader, raw: Uint8Array, count: number, source: string): NpyData {
  const { dtype, itemSize } = h;
  if (raw.length < count * itemSize) throw new DataError(`${source}: truncated .npy data (expected ${count * itemSize} bytes, found ${raw.length})`);
  // own, aligned copy (not raw.slice: on a Node Buffer, slice is a view of the whole file's memory)
  const bytes = new Uint8Array(raw.subarray(0, count * itemSize));
  if (h.bigEndian && itemSize > 1) {
    for (let i = 0; i < bytes.length; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
  }
  if (dtype === 'bool') return new Uint8Array(bytes.buffer);
  if (dtype === 'int64' || dtype === 'uint64') {
    const big = dtype === 'int64' ? new BigInt64Array(bytes.buffer) : new BigUint64Array(bytes.buffer);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const v = Number(big[i]!);
      if (!Number.isSafeInteger(v)) throw new DataError(`${source}: ${dtype} value ${big[i]} at ${i} is not a safe integer`);
      out[i] = v;
    }
    return out;
  }
  return new CTOR[dtype](bytes.buffer);
}

/** The dtype a file's elements are returned as. */
function mappedDtype(d: ParsedHeader['dtype']): NpyDtype {
  return d === 'bool' ? 'uint8' : d === 'int64' || d === 'uint64' ? 'float64' : d;
}

/** Fortran-order data to C order. */
function fortranToC(data: NpyData, shape: readonly number[]): NpyData {
  const n = data.length;
  const out = new (data.constructor as new (n: number) => NpyData)(n);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  const fStride = new Array<number>(rank);
  let s = 1;
  for (let d = 0; d < rank; d++) {
    fStride[d] = s;
    s *= shape[d]!;
  }
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let d = 0; d < rank; d++) f += idx[d]! * fStride[d]!;
    out[c] = data[f]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Parses the bytes of a whole .npy file. */
export function parseNpy(bytes: Uint8Array, source = 'npy'): NpyArray {
  const h = parseHeader(bytes, source);
  const count = h.shape.reduce((a, b) => a * b, 1);
  let data = decodeElements(h, bytes.subarray(h.dataOffset), count, source);
  if (h.fortran && h.shape.length > 1) data = fortranToC(data, h.shape);
  return { data, shape: h.shape, dtype: mappedDtype(h.dtype) };
}

/** Reads a whole .npy file. @throws DataError naming the file when it is missing or malformed. */
export async function readNpy(file: string): Promise<NpyArray> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    throw new DataError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

/** Writes `data` with `shape` as a .npy file, atomically. */
export async function writeNpy(file: string, data: NpyData, shape: readonly number[]): Promise<void> {
  await writeFileAtomic(file, encodeNpy(data, shape));
}

function checkShape(length: number, shape: readonly number[], where: string): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== length || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${where}: shape [${shape.join(', ')}] holds ${n} values, got ${length}`);
  }
}

/**
 * Random access to the rows (first axis) of a large C-order .npy file without loading it.
 * @example
 * const r = await NpyReader.open('x.npy');
 * const rows = await r.rows(100, 32);   // elements of x[100:132]
 * await r.close();
 */
export class NpyReader {
  private constructor(
    private readonly fh: FileHandle,
    private readonly header: ParsedHeader,
    readonly file: string,
  ) {}

  /** Opens a file and reads its header. @throws DataError for a missing, malformed or Fortran-order file. */
  static async open(file: string): Promise<NpyReader> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(file, 'r');
    } catch (err) {
      throw new DataError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const head = new Uint8Array(65536 + 12);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      const h = parseHeader(head.subarray(0, bytesRead), file);
      if (h.fortran && h.shape.length > 1) throw new DataError(`${file}: Fortran-order arrays cannot be read by rows; save with np.ascontiguousarray`);
      if (h.shape.length === 0) throw new DataError(`${file}: a scalar has no rows`);
      const { size } = await fh.stat();
      const count = h.shape.reduce((a, b) => a * b, 1);
      if (size < h.dataOffset + count * h.itemSize) throw new DataError(`${file}: truncated .npy data (${size} bytes for ${count} elements)`);
      return new NpyReader(fh, h, file);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Shape of the array. */
  get shape(): readonly number[] {
    return this.header.shape;
  }

  /** dtype the rows are returned as. */
  get dtype(): NpyDtype {
    return mappedDtype(this.header.dtype);
  }

  /** Elements of rows [start, start + count) in C order. */
  async rows(start: number, count: number): Promise<NpyData> {
    const rowLen = this.header.shape.slice(1).reduce((a, b) => a * b, 1);
    const n = this.header.shape[0]!;
    if (!(start >= 0 && count >= 0 && start + count <= n)) throw new ShapeError(`${this.file}: rows [${start}, ${start + count}) outside [0, ${n})`);
    const bytes = new Uint8Array(count * rowLen * this.header.itemSize);
    await this.fh.read(bytes, 0, bytes.length, this.header.dataOffset + start * rowLen * this.header.itemSize);
    return decodeElements(this.header, bytes, count * rowLen, this.file);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/**
 * Streams rows into a new .npy file of known shape; the file appears (atomically, by rename) only
 * on `close()` once every row was written; `abort()` removes the partial file.
 * @example
 * const w = await NpyWriter.create('a.npy', 'float32', [n, 32, 32, 3]);
 * for (const chunk of chunks) await w.append(chunk);
 * await w.close();
 */
export class NpyWriter {
  private written = 0;
  private constructor(
    private readonly fh: FileHandle,
    private readonly tmp: string,
    private readonly untrack: () => void,
    readonly file: string,
    readonly dtype: NpyDtype,
    readonly shape: readonly number[],
  ) {}

  static async create(file: string, dtype: NpyDtype, shape: readonly number[]): Promise<NpyWriter> {
    checkShape(shape.reduce((a, b) => a * b, 1), shape, 'NpyWriter');
    const tmp = tempName(file);
    const untrack = trackTemporary(tmp);
    let fh: FileHandle | undefined;
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      fh = await fsp.open(tmp, 'w');
      await fh.write(npyHeader(dtype, shape));
    } catch (err) {
      await fh?.close();
      await fsp.rm(tmp, { force: true }).catch(() => undefined); // the folder may not even exist
      untrack();
      throw new DataError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
    }
    return new NpyWriter(fh, tmp, untrack, file, dtype, shape);
  }

  /** Appends elements (whole rows or not) in C order. */
  async append(data: NpyData): Promise<void> {
    if (dtypeOf(data) !== this.dtype) throw new ShapeError(`NpyWriter(${this.file}): expected ${this.dtype} data, got ${dtypeOf(data)}`);
    const total = this.shape.reduce((a, b) => a * b, 1);
    if (this.written + data.length > total) throw new ShapeError(`NpyWriter(${this.file}): more than the ${total} elements of shape [${this.shape.join(', ')}]`);
    await this.fh.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.written += data.length;
  }

  /** Checks completeness, syncs and renames the file into place. */
  async close(): Promise<void> {
    const total = this.shape.reduce((a, b) => a * b, 1);
    if (this.written !== total) {
      await this.abort();
      throw new ShapeError(`NpyWriter(${this.file}): wrote ${this.written} of ${total} elements`);
    }
    try {
      await this.fh.sync();
      await this.fh.close();
      await fsp.rename(this.tmp, this.file);
    } catch (err) {
      await fsp.rm(this.tmp, { force: true });
      throw new DataError(`cannot write ${this.file}: ${(err as Error).message}`, { cause: err });
    } finally {
      this.untrack();
    }
  }

  /** Discards the partial file. */
  async abort(): Promise<void> {
    try {
      await this.fh.close();
    } catch {
      // already closed
    }
    await fsp.rm(this.tmp, { force: true });
    this.untrack();
  }
}
