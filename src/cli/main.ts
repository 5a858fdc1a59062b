/**
 * The scaat CLI: parse → dispatch → exit code. The only place that calls process.exit and the
 * only place that catches every error.
 *
 * Exit codes: 0 success; 2 bad usage (unknown option, invalid config: ConfigError);
 * 3 bad input (missing or malformed data, model or checkpoint: DataError, ShapeError);
 * 1 internal failure (anything else, printed with its stack); 130 interrupted (Ctrl-C) after a
 * clean checkpoint.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, DataError, ScaatError, ShapeError } from '../errors.js';
import { registerCommands } from './commands/index.js';

export const EXIT = { ok: 0, internal: 1, usage: 2, input: 3, interrupted: 130 } as const;

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
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    return reportError(err);
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
  if (err instanceof ConfigError) {
    process.stderr.write(`scaat: ${err.name}: ${err.message}\n(run 'scaat --help' or 'scaat <command> --help' for usage)\n`);
    return EXIT.usage;
  }
  if (err instanceof DataError || err instanceof ShapeError) {
    process.stderr.write(`scaat: ${err.name}: ${err.message}\n`);
    return EXIT.input;
  }
  if (err instanceof ScaatError && err.code === 'INTERRUPTED') {
    process.stderr.write(`scaat: ${err.message}\n`);
    return EXIT.interrupted;
  }
  if (err instanceof ScaatError) {
    process.stderr.write(`scaat: ${err.name}: ${err.message}\n`);
    return EXIT.internal;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`scaat: internal error (please report): ${e.stack ?? e.message}\n`);
  return EXIT.internal;
}
