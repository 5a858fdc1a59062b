/**
 * File access shared by the loaders: existence checks that raise DataError, gzip sniffing, and
 * fixed-size record stores read by positioned reads (a batch costs one read per run of
 * consecutive records, and memory stays at one batch whatever the file size).
 */
import { closeSync, openSync, readSync, readFileSync, statSync, type Stats } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';

/** stat() or a DataError that says what was expected there. */
export function statOrThrow(file: string, what: string): Stats {
  try {
    return statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const found = code === 'ENOENT' ? 'nothing there' : `an error (${code ?? (err as Error).message})`;
    throw new DataError(`${what}: expected ${file} to exist, found ${found}`, { cause: err });
  }
}

/** Throws DataError unless `file` is a regular file. */
export function requireFile(file: string, what: string): Stats {
  const st = statOrThrow(file, what);
  if (!st.isFile()) throw new DataError(`${what}: expected a file at ${file}, found a ${kind(st)}`);
  return st;
}

/** Throws DataError unless `dir` is a directory. */
export function requireDir(dir: string, what: string): Stats {
  const st = statOrThrow(dir, what);
  if (!st.isDirectory()) throw new DataError(`${what}: expected a folder at ${dir}, found a ${kind(st)}`);
  return st;
}

function kind(st: Stats): string {
  return st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'special file';
}

/** The first `n` bytes of a file (fewer if it is shorter). */
export function readHead(file: string, n: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const buf = new Uint8Array(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Reads a whole file, gunzipping it when it starts with the gzip magic (whatever its name). The
 * decompressed size is capped at `maxBytes`, so a hostile or mistaken input cannot exhaust memory.
 */
export function readMaybeGzip(file: string, what: string, maxBytes: number): Uint8Array {
  const raw = readFileSync(file);
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: maxBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const found =
      e.code === 'ERR_BUFFER_TOO_LARGE' ? `more than ${maxBytes} bytes once decompressed` : `a corrupt gzip stream (${e.message})`;
    throw new DataError(`${what}: expected a readable gzip file at ${file}, found ${found}`, { cause: err });
  }
}

/** Fixed-size records read by index. */
export interface RecordStore {
  /** Number of records. */
  readonly count: number;
  /** Bytes per record. */
  readonly recordBytes: number;
  /** Copies records `indices[k]` to `out[k·recordBytes …]`. */
  read(indices: ArrayLike<number>, out: Uint8Array): void;
  close(): void;
}

/** Records held in memory (e.g. a decompressed IDX file). */
export class MemoryRecords implements RecordStore {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly offset: number,
    readonly recordBytes: number,
    readonly count: number,
  ) {}

  read(indices: ArrayLike<number>, out: Uint8Array): void {
    const r = this.recordBytes;
    for (let k = 0; k < indices.length; k++) {
      const s = this.offset + indices[k]! * r;
      out.set(this.bytes.subarray(s, s + r), k * r);
    }
  }

  close(): void {}
}

/** Largest single read when coalescing runs of consecutive records. */
const MAX_RUN_BYTES = 4 << 20;

/**
 * Records in a file at `offset + i·recordBytes`, read lazily with positioned reads. Indices are
 * sorted and runs of consecutive records are fetched with one read, so sequential iteration costs
 * one system call per batch and shuffled iteration one per sample.
 */
export class FileRecords implements RecordStore {
  private fd: number | undefined;
  private scratch = new Uint8Array(0);

  constructor(
    readonly file: string,
    private readonly offset: number,
    readonly recordBytes: number,
    readonly count: number,
  ) {
    this.fd = openSync(file, 'r');
  }

  read(indices: ArrayLike<number>, out: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) throw new DataError(`${this.file}: read after close`);
    const r = this.recordBytes;
    forEachRun(indices, Math.max(1, Math.floor(MAX_RUN_BYTES / r)), (first, last, positions) => {
      const bytes = (last - first + 1) * r;
      if (this.scratch.length < bytes) this.scratch = new Uint8Array(Math.max(bytes, this.scratch.length * 2));
      const pos = this.offset + first * r;
      let got = 0;
      while (got < bytes) {
        const m = readSync(fd, this.scratch, got, bytes - got, pos + got);
        if (m === 0) break;
        got += m;
      }
      if (got < bytes) {
        throw new DataError(
          `${this.file}: expected ${bytes} bytes (records ${first}..${last}) at offset ${pos}, found ${got} before the end of the file (truncated or changed after opening)`,
        );
      }
      for (const p of positions) {
        const s = (indices[p]! - first) * r;
        out.set(this.scratch.subarray(s, s + r), p * r);
      }
    });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Groups a batch's indices into runs of consecutive records (duplicates allowed), at most `maxRun`
 * records long, in increasing order: `fn(first, last, positions)` where `positions` are the batch
 * positions whose index lies in [first, last].
 */
export function forEachRun(
  indices: ArrayLike<number>,
  maxRun: number,
  fn: (first: number, last: number, positions: Int32Array) => void,
): void {
  const n = indices.length;
  const order = sortedPositions(indices);
  let k = 0;
  while (k < n) {
    const first = indices[order[k]!]!;
    let j = k;
    while (j + 1 < n) {
      const next = indices[order[j + 1]!]!;
      if (next > indices[order[j]!]! + 1 || next - first + 1 > maxRun) break;
      j++;
    }
    fn(first, indices[order[j]!]!, order.subarray(k, j + 1));
    k = j + 1;
  }
}

/** Positions 0..n-1 sorted by `indices[position]` (stable). */
export function sortedPositions(indices: ArrayLike<number>): Int32Array {
  const n = indices.length;
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  let sorted = true;
  for (let k = 1; k < n && sorted; k++) sorted = indices[k]! >= indices[k - 1]!;
  if (!sorted) order.sort((a, b) => indices[a]! - indices[b]! || a - b);
  return order;
}
