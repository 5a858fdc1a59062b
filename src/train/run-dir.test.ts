// The run folder's integrity helpers: one writer per run folder (lockRunDir), a log that is
// fsynced line by line (RunLog), and the removal of a killed writer's temporary files.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LockedError } from '../errors.js';
import { lockRunDir, removeRunTemporaries, RunLog } from './run-dir.js';

// RunLog's promise is checked by watching the fsync calls it makes (the real ones still run).
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return { ...real, fsyncSync: vi.fn(real.fsyncSync) };
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scaat-run-dir-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const locks = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('.lock-'));

/** The pid of a process that has exited (so certainly not running now). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('lockRunDir', () => {
  it('gives the folder to one holder at a time; the second is refused with the owner named, until release', async () => {
    const dir = path.join(tmp, 'one');
    const a = await lockRunDir(dir);
    expect(locks(dir)).toEqual([path.basename(a.file)]);
    const owner = JSON.parse(fs.readFileSync(a.file, 'utf8')) as { pid: number; host: string; since: string };
    expect([owner.pid, owner.host]).toEqual([process.pid, os.hostname()]);
    const err = await lockRunDir(dir, { attempts: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as Error).message).toContain(`${dir} is being written by another scaat process (pid ${process.pid} (this process) since ${owner.since}`);
    expect((err as Error).message).toContain(`delete ${a.file}`);
    expect(locks(dir)).toEqual([path.basename(a.file)]); // the refused taker left nothing
    a.release();
    expect(locks(dir)).toEqual([]);
    const b = await lockRunDir(dir);
    b.release();
    b.release(); // twice is harmless
  });

  it('lets exactly one of many simultaneous takers win', async () => {
    const dir = path.join(tmp, 'race');
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => lockRunDir(dir)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockedError);
    expect(locks(dir)).toHaveLength(1);
    (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockRunDir>>>).value.release();
  });

  it('takes over the stale lock of a dead process, and of a live pid that is another process (pid reuse)', async () => {
    const dir = path.join(tmp, 'stale');
    fs.mkdirSync(dir);
    const pid = deadPid();
    const stale = path.join(dir, `.lock-${pid}-0123456789abcdef`);
    fs.writeFileSync(stale, JSON.stringify({ pid, host: os.hostname(), processStart: null, since: 'then', command: 'scaat train' }));
    // the parent process is alive, but the lock says it started at another time: a reused pid
    const reused = path.join(dir, `.lock-${process.ppid}-fedcba9876543210`);
    fs.writeFileSync(reused, JSON.stringify({ pid: process.ppid, host: os.hostname(), processStart: 1, since: 'then', command: 'scaat train' }));
    const lock = await lockRunDir(dir);
    expect(locks(dir)).toEqual([path.basename(lock.file)]);
    lock.release();
  });

  it('respects a live lock of another process, and one from another host it cannot check', async () => {
    const dir = path.join(tmp, 'other');
    fs.mkdirSync(dir);
    const mine = fs.readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
    const start = Number(mine.slice(mine.lastIndexOf(')') + 2).split(' ')[19]);
    const parent = path.join(dir, `.lock-${process.ppid}-0000000000000001`);
    fs.writeFileSync(parent, JSON.stringify({ pid: process.ppid, host: os.hostname(), processStart: start, since: 'then', command: 'scaat train --resume x' }));
    await expect(lockRunDir(dir, { attempts: 1 })).rejects.toThrow(`(pid ${process.ppid} since then: scaat train --resume x)`);
    fs.rmSync(parent);
    const remote = path.join(dir, `.lock-${deadPid()}-0000000000000002`);
    fs.writeFileSync(remote, JSON.stringify({ pid: 1, host: 'elsewhere', processStart: null, since: 'then', command: 'scaat train' }));
    await expect(lockRunDir(dir, { attempts: 1 })).rejects.toThrow(/on host elsewhere .*\(this host cannot check another host\), delete /);
    expect(fs.existsSync(remote)).toBe(true);
  });

  it('names the folder when it cannot be created (a DataError, not a crash)', async () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, '');
    await expect(lockRunDir(path.join(file, 'run'))).rejects.toThrow(new RegExp(`cannot create the run folder ${file}/run or its lock file: ENOTDIR`));
  });
});

describe('RunLog', () => {
  it('fsyncs every line it writes, before write() returns', () => {
    const file = path.join(tmp, 'log.jsonl');
    const log = new RunLog(file);
    const sync = vi.mocked(fs.fsyncSync);
    sync.mockClear();
    log.write({ type: 'start' });
    expect(sync).toHaveBeenCalledTimes(1);
    log.write({ type: 'step', step: 1 });
    expect(sync).toHaveBeenCalledTimes(2);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"type":"start"}\n{"type":"step","step":1}\n');
  });
});

describe('removeRunTemporaries', () => {
  it("removes a killed writer's temporary files (top level, model/, checkpoints/) and nothing else", () => {
    const dir = path.join(tmp, 'temps');
    const files = {
      'model/.weights.bin.4242.m1abc.tmp': true,
      'model/weights.bin': false,
      '.config.json.4242.m1abc.tmp': true,
      '.q.npy.4242.m1abc.tmp': true,
      'config.json': false,
      'log.jsonl': false,
      'checkpoints/.latest.json.4242.x.tmp': true,
      'checkpoints/latest.json': false,
      'checkpoints/step-00000002/weights.bin': false,
      'checkpoints/.tmp-step-00000004-4242/weights.bin': true,
      '.lock-4242-0123456789abcdef': false,
    };
    for (const f of Object.keys(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), 'x');
    }
    const removed = removeRunTemporaries(dir).map((p) => path.relative(dir, p)).sort();
    const temps = Object.entries(files).filter(([, t]) => t).map(([f]) => f.replace('/weights.bin', ''));
    expect(removed).toEqual(temps.sort());
    for (const [f, t] of Object.entries(files)) expect(fs.existsSync(path.join(dir, f)), f).toBe(!t);
  });
});
