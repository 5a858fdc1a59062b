// One handling of SIGINT / SIGTERM for every command: 128 + the signal's number, partial files
// removed; a command that can stop cleanly gets the first signal, a second one exits at once.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { trackedTemporaries, trackTemporary } from '../io/temp-files.js';
import { installSignalHandlers, onInterrupt, receivedSignal, signalExitCode } from './signals.js';

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
    const exits: number[] = [];
    const stopped: string[] = [];
    uninstall = installSignalHandlers((code) => exits.push(code));
    const off = onInterrupt((sig) => stopped.push(sig));
    process.emit('SIGINT');
    expect(stopped).toEqual(['SIGINT']);
    expect(exits).toEqual([]);
    process.emit('SIGINT');
    expect(exits).toEqual([130]);
    expect(stopped).toEqual(['SIGINT']);
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
