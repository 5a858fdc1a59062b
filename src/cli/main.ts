/**
 * The scaat CLI: parse → dispatch → exit code. The only place that catches every error, and with
 * signals.ts the only place that decides how the process exits. One mapping from cause to exit
 * code for every command (README, "Exit codes"; {@link EXIT}):
 *
 *   0    success
 *   1    internal failure: a bug (printed with its stack; please report)
 *   2    bad usage or configuration: unknown command/option/name, a bad value, an invalid config
 *        file, a run folder that cannot take this run (already holds one, --resume with changes
 *        or fewer --epochs than done), a training run that diverged (ConfigError, commander)
 *   3    a file scaat cannot use: missing, unreadable, malformed, corrupted or non-finite data,
 *        model, checkpoint or results, or an output it cannot write (DataError, ShapeError,
 *        and any file-system error: permission denied, disk full, …)
 *   4    busy: the run folder is being written by another live scaat process (LockedError)
 *   130  interrupted by SIGINT (Ctrl-C), 143 by SIGTERM: train and demo stop after writing a
 *        checkpoint, the other commands at once, removing their partial output (signals.ts)
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, DataError, HeapLimitError, LockedError, ScaatError, ShapeError } from '../errors.js';
import { isWasmHeapExhausted, WASM_HEAP_LIMIT_BYTES } from '../engine/memory.js';
import { registerCommands } from './commands/index.js';
import { scaatVersion } from '../io/package-version.js';
import { installSignalHandlers, receivedSignal, signalExitCode } from './signals.js';

/** The exit codes (see the module header); a signal S gives 128 + S: 130 (SIGINT), 143 (SIGTERM). */
export const EXIT = { ok: 0, internal: 1, usage: 2, input: 3, busy: 4, sigint: 130, sigterm: 143 } as const;

/** Builds the commander program (exported for tests of the usage text). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('scaat')
    .description(
      'Saliency Constrained Adaptive Adversarial Training (SCAAT) for TensorFlow.js: train, explain, evaluate and report.',
    )
    .addHelpText(
      'after',
      '\nThe method as implemented (training step, trainers, saliency methods, metrics), every option with\n' +
        'its default, and what the paper leaves open: docs/method.md in the scaat package.',
    )
    .version(scaatVersion() ?? 'unknown', '-V, --version', "print scaat's version")
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const uninstall = installSignalHandlers();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    return reportError(err);
  } finally {
    uninstall();
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed the message (and usage); help and version exit 0.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') {
      return EXIT.ok;
    }
    return EXIT.usage;
  }
  if (err instanceof HeapLimitError) {
    process.stderr.write(`scaat: ${err.name}: ${err.message}\n`);
    return EXIT.usage;
  }
  if (isWasmHeapExhausted(err)) {
    // a step outside training (explain, evaluate, a metric) ran out of the wasm heap
    process.stderr.write(
      `scaat: HeapLimitError: the wasm backend's ${WASM_HEAP_LIMIT_BYTES / 1024 ** 3} GiB heap (wasm32's limit) is full: ${(err as Error).message}; ` +
        'run it again with fewer images at a time (--batch-size for explain and evaluate, batchSize for training)\n',
    );
    return EXIT.usage;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`scaat: ${err.name}: ${err.message}\n(run 'scaat --help' or 'scaat <command> --help' for usage)\n`);
    return EXIT.usage;
  }
  if (err instanceof DataError || err instanceof ShapeError) {
    process.stderr.write(`scaat: ${err.name}: ${err.message}\n`);
    return EXIT.input;
  }
  if (err instanceof LockedError) {
    process.stderr.write(`scaat: ${err.name}: ${err.message}\n`);
    return EXIT.busy;
  }
  if (err instanceof ScaatError && err.code === 'INTERRUPTED') {
    process.stderr.write(`scaat: ${err.message}\n`);
    return signalExitCode(receivedSignal() ?? 'SIGINT');
  }
  if (err instanceof ScaatError) {
    process.stderr.write(`scaat: ${err.name}: ${err.message}\n`);
    return EXIT.internal;
  }
  if (isFileSystemError(err)) {
    // a file-system refusal that no command wrapped: still a named file problem, not a bug
    process.stderr.write(`scaat: ${err.message}\n`);
    return EXIT.input;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`scaat: internal error (please report): ${e.stack ?? e.message}\n`);
  return EXIT.internal;
}

/** Node's errors of a system call on a path (EACCES, ENOSPC, ENOENT, EROFS, …): they name the path. */
function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException | null;
  return e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string' && typeof e.path === 'string';
}
