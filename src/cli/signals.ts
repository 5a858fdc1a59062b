/**
 * SIGINT (Ctrl-C) and SIGTERM (a scheduler's stop), handled the same way by every command:
 *
 * - a command that can stop cleanly registers a stopper with {@link onInterrupt} (train and demo:
 *   finish the current step, write a checkpoint, then end with ScaatError code 'INTERRUPTED');
 * - without a stopper, and on a second signal, the process exits at once after removing the
 *   temporary files it was writing (io/temp-files.ts), so no partial output is left behind. The
 *   same signal again within {@link SAME_STOP_MS} of the first is not a second one but the same
 *   stop delivered twice: coreutils `timeout` sends its signal to the command and then to the
 *   command's process group, which holds the command too, and a batch scheduler may signal every
 *   process of a job; stopping at once there would lose the checkpoint the stop asked for.
 *
 * Either way the exit status is 128 + the signal's number ({@link signalExitCode}): 130 for
 * SIGINT, 143 for SIGTERM. main.ts installs the handlers for the life of a command.
 */
import os from 'node:os';
import { removeTemporaries } from '../io/temp-files.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** How soon after the first a repeat of the same signal counts as the same stop (ms; module header). */
export const SAME_STOP_MS = 1000;
type Handled = (typeof SIGNALS)[number];

let received: Handled | undefined;
let receivedAt = 0;
const stoppers = new Set<(signal: Handled) => void>();

/** 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as a shell reports a process it killed. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (os.constants.signals[signal] ?? 2);
}

/** The first signal received since {@link installSignalHandlers}, if any. */
export function receivedSignal(): Handled | undefined {
  return received;
}

/**
 * Registers `stop`, called on the first signal instead of exiting (it should make the command end
 * soon with an 'INTERRUPTED' error). Returns the function that unregisters it.
 */
export function onInterrupt(stop: (signal: Handled) => void): () => void {
  stoppers.add(stop);
  return () => {
    stoppers.delete(stop);
  };
}

/**
 * Installs the handlers (see the module header); the returned function removes them again.
 * `exit` is the process's exit and `now` its clock in ms (tests pass a recorder and a fake clock).
 */
export function installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code), now: () => number = () => performance.now()): () => void {
  received = undefined;
  const handle = (signal: Handled): void => {
    const first = received === undefined;
    if (first) {
      received = signal;
      receivedAt = now();
    }
    if (stoppers.size > 0) {
      if (first) {
        for (const stop of stoppers) stop(signal);
        return;
      }
      if (signal === received && now() - receivedAt < SAME_STOP_MS) return; // the same stop, delivered twice
    }
    removeTemporaries();
    exit(signalExitCode(signal));
  };
  const listeners = SIGNALS.map((s) => [s, () => handle(s)] as const);
  for (const [s, l] of listeners) process.on(s, l);
  return () => {
    for (const [s, l] of listeners) process.off(s, l);
    stoppers.clear();
  };
}
