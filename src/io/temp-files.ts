/**
 * The temporary files and folders this process is writing right now (an atomic write's temp file,
 * a streamed .npy, a checkpoint being assembled), so that an exit that cannot wait for them (a
 * signal, see cli/signals.ts) removes them instead of leaving them behind.
 *
 * @example
 * const untrack = trackTemporary(tmp);   // before the file is created
 * try { … write, rename … } finally { untrack(); }
 */
import { rmSync } from 'node:fs';

const live = new Set<string>();

/** Records `file` (a file or a folder) as in progress; the returned function forgets it again. */
export function trackTemporary(file: string): () => void {
  live.add(file);
  return () => {
    live.delete(file);
  };
}

/** The paths in progress (oldest first). */
export function trackedTemporaries(): string[] {
  return [...live];
}

/** Removes every tracked path now (synchronous: safe in a signal handler just before exit). */
export function removeTemporaries(): void {
  for (const file of live) {
    try {
      rmSync(file, { recursive: true, force: true });
    } catch {
      // best effort: the process is exiting
    }
  }
  live.clear();
}
