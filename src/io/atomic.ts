/**
 * Atomic file output: write to a temporary file in the same folder, fsync, then rename over the
 * target, so a reader (or a crash) never sees a half-written file. The temporary file is tracked
 * (temp-files.ts) while it exists, so an interrupted process removes it; every failure, creating
 * the folder included, is a DataError naming the target.
 */
import { promises as fsp, writeFileSync, renameSync, openSync, fsyncSync, closeSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../errors.js';
import { trackTemporary } from './temp-files.js';

/** The hidden temporary name of `file` in its own folder (`.<name>.<pid>.<time>.tmp`). */
export function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/**
 * Creates `dir` (and its parents); a DataError naming it and the reason (permission denied, a file
 * in the way, a read-only file system). `what` describes it, e.g. 'the run folder'.
 */
export async function makeDir(dir: string, what = 'the folder'): Promise<void> {
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new DataError(`cannot create the ${what} ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes `data` to `file` atomically (creating the parent folder). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(file);
  const untrack = trackTemporary(tmp);
  try {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined); // the folder may not even exist
    throw new DataError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    untrack();
  }
}

/** Synchronous variant of {@link writeFileAtomic} (for exit paths such as a SIGINT handler). */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = tempName(file);
  try {
    writeFileSync(tmp, data);
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw new DataError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes JSON (2-space indented, trailing newline) atomically. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
