/**
 * Signals during native kernels. A signal handler that runs on a thread inside oneDNN 2.6's JIT
 * sgemm corrupted the heap (glibc "corrupted size vs. prev_size", exit 134, within a few hundred
 * matmuls under a storm of SIGUSR2, or under `node --cpu-prof`); scaat handles SIGINT to write a
 * checkpoint, so Ctrl-C during training could hit it. The addon now holds asynchronous signals off
 * for each kernel call (native/src/addon.cc SignalsHeld). Here a real child process runs native
 * matmuls while this process sends it SIGUSR2 every millisecond: it must finish, with every product
 * equal to the first, and its handler must have run (the signals were delivered, after the calls).
 * Skipped where the accelerator is not built (run under CI, where it is required).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { loadAddon } from '../../src/engine/native/_addon.js';
import { itUnless, nativeSkip } from '../helpers/index.js';
import { REPO_ROOT } from '../fixtures/cli.js';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'native-matmul-loop.ts');

describe('native kernels under signals', () => {
  itUnless(nativeSkip(loadAddon()))('a storm of handled signals during native matmuls: the process finishes, every product unchanged', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, '250'], { cwd: REPO_ROOT, env: { ...process.env, SCAAT_NATIVE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let running = true;
    void exited.then(() => (running = false));
    while (running && !out.includes('ready')) await new Promise((r) => setTimeout(r, 10));
    // until the child says it is done (after that, exiting, it no longer handles the signal); how
    // many go out depends on the machine's speed, so only the child's count below is asserted
    while (running && !out.includes('done')) {
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 1));
    }
    const { code, signal } = await exited;
    expect(out).not.toContain('no-accelerator'); // the native path ran
    expect({ code, signal }, err.split('\n').filter((l) => l && !/tfjs-node|=====|Hi, looks/.test(l)).join('\n')).toEqual({ code: 0, signal: null });
    const done = /done (\d+) (\d+) (\d+)/.exec(out);
    expect(done, out).not.toBeNull();
    expect(Number(done![1])).toBe(250);
    expect(Number(done![2])).toBe(0); // no product changed
    // the handler ran: signals were delivered while the loop of native calls ran (the child counts
    // only those handled at its yields inside the loop, before it prints "done")
    expect(Number(done![3])).toBeGreaterThan(0);
  }, 120_000);
});
