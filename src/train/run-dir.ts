/**
 * The run folder of `scaat train` and its log:
 *
 *   <run>/config.json          the resolved config (written once, atomically, before the first step)
 *   <run>/log.jsonl            one JSON record per line: start, step, epoch, checkpoint, end
 *   <run>/checkpoints/<name>/  model.json, weights.bin, optimizer.bin, trainer-state.bin, state.json
 *   <run>/checkpoints/latest.json   {"name": "<newest checkpoint>"}
 *   <run>/model/               the final model (model.json + weights.bin)
 *   <run>/.lock-<pid>-<nonce>  the lock of the process writing the run (see {@link lockRunDir})
 *
 * (models/io.ts RUN_LAYOUT names the same folders, so `loadClassifier(<run>)` finds the model.)
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DataError, LockedError } from '../errors.js';
import { RUN_LAYOUT } from '../models/io.js';

export const RUN_FILES = {
  config: 'config.json',
  log: 'log.jsonl',
  checkpoints: RUN_LAYOUT.checkpoints,
  latest: RUN_LAYOUT.latest,
  model: RUN_LAYOUT.finalModel,
} as const;

/** Paths of a run folder. */
export function runPaths(dir: string) {
  return {
    dir,
    config: path.join(dir, RUN_FILES.config),
    log: path.join(dir, RUN_FILES.log),
    checkpoints: path.join(dir, RUN_FILES.checkpoints),
    latest: path.join(dir, RUN_FILES.checkpoints, RUN_FILES.latest),
    model: path.join(dir, RUN_FILES.model),
  };
}

/**
 * Refuses to start a new run in a folder that already holds one (config.json, log.jsonl or
 * checkpoints), so an existing run is never overwritten. An empty or absent folder is fine.
 * @throws ConfigError naming the folder and suggesting --resume.
 */
export function assertFreshRunDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new ConfigError(`--out ${dir}: exists and is not a folder`);
  const taken = readdirSync(dir).filter((f) => f === RUN_FILES.config || f === RUN_FILES.log || f === RUN_FILES.checkpoints || f === RUN_FILES.model);
  if (taken.length > 0) {
    throw new ConfigError(`--out ${dir}: already holds a run (${taken.join(', ')}); continue it with --resume ${dir}, or choose another --out`);
  }
}

/** Reads and parses `<run>/config.json` (DataError when missing or malformed). */
export function readRunConfig(dir: string): Record<string, unknown> {
  const file = runPaths(dir).config;
  if (!existsSync(file)) throw new DataError(`--resume ${dir}: no ${RUN_FILES.config} there (not a run folder?)`);
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new DataError(`${file}: cannot parse: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Appends JSON records to log.jsonl, one line each; every line is fsynced before write() returns,
 * so a crash (even of the machine) keeps every line written.
 */
export class RunLog {
  constructor(readonly file: string) {}

  write(record: Record<string, unknown>): void {
    const fd = openSync(this.file, 'a');
    try {
      writeSync(fd, JSON.stringify(record) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Bytes written so far (stored in checkpoints so a resume can drop lines written after them). */
  size(): number {
    return existsSync(this.file) ? statSync(this.file).size : 0;
  }

  /** Cuts the log back to `bytes` (resume: the lines after the checkpoint are written again). */
  truncate(bytes: number): void {
    if (!existsSync(this.file)) return;
    if (statSync(this.file).size > bytes) truncateSync(this.file, bytes);
    const fd = openSync(this.file, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Removes the temporary files a killed writer left in a run folder: hidden `.<name>.*.tmp` files
 * of atomic writes at its top level and in `model/` (e.g. `model/.weights.bin.<pid>.<t>.tmp` of
 * a final save that was killed) and `checkpoints/.tmp-*` folders of a checkpoint being written.
 * Call it only while holding the run's lock ({@link lockRunDir}): then no other writer is at work.
 * @returns the paths removed.
 */
export function removeRunTemporaries(dir: string): string[] {
  const p = runPaths(dir);
  const removed: string[] = [];
  const sweep = (folder: string, isTemp: (name: string) => boolean): void => {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      return; // no such folder (yet)
    }
    for (const name of names.filter(isTemp)) {
      rmSync(path.join(folder, name), { recursive: true, force: true });
      removed.push(path.join(folder, name));
    }
  };
  const atomicTemp = (name: string): boolean => name.startsWith('.') && name.endsWith('.tmp') && !name.startsWith('.lock-');
  sweep(p.dir, atomicTemp);
  sweep(p.model, atomicTemp);
  sweep(p.checkpoints, (name) => name.startsWith('.tmp-') || atomicTemp(name));
  return removed;
}

/** What a lock file records about its owner. */
export interface RunLockOwner {
  readonly pid: number;
  readonly host: string;
  /** Start time of the process (Linux: clock ticks since boot, /proc/<pid>/stat), to tell a reused pid; null elsewhere. */
  readonly processStart: number | null;
  /** ISO time the lock was taken. */
  readonly since: string;
  /** The command line that took it. */
  readonly command: string;
}

/** A lock held on a run folder; {@link RunLock.release} gives it up (also done when the process exits). */
export interface RunLock {
  readonly dir: string;
  /** The lock file. */
  readonly file: string;
  release(): void;
}

const LOCK_FILE = /^\.lock-(\d+)-([0-9a-f]{16})$/;
const heldLocks = new Set<string>();
let exitHookInstalled = false;

/**
 * Takes the exclusive lock of the run folder `dir` (created if absent): one writer per run, for
 * train, resume and anything else that writes into a run folder (e.g. a sweep cell, compare's
 * eval.json). Held until {@link RunLock.release} or the end of the process; a process that
 * crashes or is killed leaves a lock file that the next taker recognises as stale (its pid is
 * not running, or runs a different process) and removes.
 *
 * How: each taker writes its own lock file `.lock-<pid>-<nonce>` (pid, host, process start
 * time) and then lists the folder; it holds the lock only if no other live lock file is there,
 * otherwise it removes its own and retries a few times (simultaneous takers back off at random
 * and one of them wins). Two processes never both hold it.
 * @throws LockedError naming the owner (pid, host, start, command) and the lock file.
 * @throws DataError when the folder cannot be created or written.
 */
export async function lockRunDir(dir: string, options: { attempts?: number } = {}): Promise<RunLock> {
  const attempts = options.attempts ?? 5;
  const file = path.join(dir, `.lock-${process.pid}-${randomBytes(8).toString('hex')}`);
  const owner: RunLockOwner = {
    pid: process.pid,
    host: os.hostname(),
    processStart: processStartTime(process.pid),
    since: new Date().toISOString(),
    command: ['scaat', ...process.argv.slice(2)].join(' '),
  };
  let other: { file: string; owner: RunLockOwner | undefined } | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 20 + Math.random() * 80)); // simultaneous takers: back off at random
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${file}.tmp`, JSON.stringify(owner) + '\n');
      renameSync(`${file}.tmp`, file); // appears complete
    } catch (err) {
      try {
        rmSync(`${file}.tmp`, { force: true });
      } catch {
        // nothing was created
      }
      throw new DataError(`cannot create the run folder ${dir} or its lock file: ${(err as Error).message}`, { cause: err });
    }
    other = liveLocks(dir).find((l) => l.file !== file);
    if (!other) {
      heldLocks.add(file);
      installExitHook();
      return {
        dir,
        file,
        release: () => {
          if (!heldLocks.delete(file)) return;
          rmSync(file, { force: true });
        },
      };
    }
    rmSync(file, { force: true });
  }
  const o = other!.owner;
  const elsewhere = o !== undefined && o.host !== os.hostname();
  const who = o
    ? `pid ${o.pid}${elsewhere ? ` on host ${o.host}` : ''}${o.pid === process.pid ? ' (this process)' : ''} since ${o.since}: ${o.command}`
    : 'a process whose lock file cannot be read';
  throw new LockedError(
    `${dir} is being written by another scaat process (${who}); wait until it ends, or stop it. ` +
      `If no such process runs any more${elsewhere ? ' (this host cannot check another host)' : ''}, delete ${other!.file}`,
  );
}

/** The lock files in `dir` whose owner is alive (stale ones, of dead processes, are deleted). */
function liveLocks(dir: string): Array<{ file: string; owner: RunLockOwner | undefined }> {
  const live: Array<{ file: string; owner: RunLockOwner | undefined }> = [];
  for (const name of readdirSync(dir)) {
    const m = LOCK_FILE.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    let owner: RunLockOwner | undefined;
    try {
      owner = JSON.parse(readFileSync(file, 'utf8')) as RunLockOwner;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      owner = undefined; // unreadable: its owner decides; treat by pid below
    }
    const pid = Number(m[1]);
    if (isAlive(pid, owner)) live.push({ file, owner });
    else rmSync(file, { force: true });
  }
  return live;
}

/** Whether the lock's owner still runs (a lock from another host is taken as alive: it cannot be checked). */
function isAlive(pid: number, owner: RunLockOwner | undefined): boolean {
  if (owner && owner.host !== os.hostname()) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  const start = processStartTime(pid);
  return !(owner?.processStart != null && start !== null && start !== owner.processStart); // a reused pid is another process
}

/** Linux: the process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat); null when unknown. */
function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const f of heldLocks) rmSync(f, { force: true });
  });
}
