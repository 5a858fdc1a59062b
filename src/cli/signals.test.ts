// One handling of SIGINT / SIGTERM for every command: 128 + the signal's number, partial files
// removed; a command that can stop cleanly gets the first signal, a second one exits at once (the
// same signal again within SAME_STOP_MS is the same stop, delivered twice).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { trackedTemporaries, trackTemporary } from '../io/temp-files.js';
import { installSignalHandlers, onInterrupt, receivedSignal, SAME_STOP_MS, signalExitCode } from './signals.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-signals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let uninstall: (() => void) | undefined;
afterEach(() => uninstall?.());

describe('signals', () => {
  it('maps a signal to 128 + its number, as a shell reports it', () => {
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGTERM')).toBe(143);
  });

  it('without a stopper: removes the files in progress and exits at once with 128 + the signal', () => {
    const exits: number[] = [];
    uninstall = installSignalHandlers((code) => exits.push(code));
    const partial = path.join(tmp, '.out.npy.1.x.tmp');
    writeFileSync(partial, 'half');
    const untrack = trackTemporary(partial);
    process.emit('SIGTERM');
    expect(exits).toEqual([143]);
    expect(existsSync(partial)).toBe(false);
    expect(trackedTemporaries()).toEqual([]);
    expect(receivedSignal()).toBe('SIGTERM');
    untrack();
  });

  it('with a stopper: the first signal goes to it, a second one exits at once', () => {
    let clock = 0;
    const exits: number[] = [];
    const stopped: string[] = [];
    uninstall = installSignalHandlers((code) => exits.push(code), () => clock);
    const off = onInterrupt((sig) => stopped.push(sig));
    process.emit('SIGINT');
    expect(stopped).toEqual(['SIGINT']);
    expect(exits).toEqual([]);
    clock += 1500; // a person's second Ctrl-C
    process.emit('SIGINT');
    expect(exits).toEqual([130]);
    expect(stopped).toEqual(['SIGINT']);
    off();
  });

  it('the same signal again within SAME_STOP_MS is the same stop (timeout(1) signals the command and its group), later or another signal exits', () => {
    let clock = 0;
    const exits: number[] = [];
    const stopped: string[] = [];
    uninstall = installSignalHandlers((code) => exits.push(code), () => clock);
    const off = onInterrupt((sig) => stopped.push(sig));
    process.emit('SIGTERM');
    clock += 1; // the copy sent to the process group, a moment later
    process.emit('SIGTERM');
    expect(stopped).toEqual(['SIGTERM']);
    expect(exits).toEqual([]);
    clock += SAME_STOP_MS - 2; // still within the window
    process.emit('SIGTERM');
    expect(exits).toEqual([]);
    process.emit('SIGINT'); // another signal: a second stop, at once
    expect(exits).toEqual([130]);
    clock += 2; // past the window: the same signal is a second stop too
    process.emit('SIGTERM');
    expect(exits).toEqual([130, 143]);
    expect(stopped).toEqual(['SIGTERM']);
    off();
  });

  it('removes its handlers again', () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const remove = installSignalHandlers(() => undefined);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual([before[0]! + 1, before[1]! + 1]);
    remove();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });
});
