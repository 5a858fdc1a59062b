/**
 * Atomic file output: write to a temporary file in the same folder, fsync, then rename over the
 * target, so a reader (or a crash) never sees a half-written file.
 */
import { promises as fsp, writeFileSync, renameSync, openSync, fsyncSync, closeSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../errors.js';

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/** Writes `data` to `file` atomically (creating the parent folder). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw new DataError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
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
