/**
 * The error hierarchy of scaat. Every failure a user can cause (bad option, bad file, bad shape,
 * a run folder another process is writing) is one of these, with a message that names the option
 * or file, what was expected and what was found. `cli/main.ts` maps each class to an exit code
 * (README, "Exit codes"); nothing else catches them.
 */

/** Base class of every error scaat throws on purpose. `code` is a stable machine-readable tag. */
export class ScaatError extends Error {
  override name = 'ScaatError';
  readonly code: string;
  constructor(message: string, code = 'SCAAT_ERROR', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A tensor or array had the wrong shape, rank or dtype. */
export class ShapeError extends ScaatError {
  override name = 'ShapeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'SHAPE_ERROR', options);
  }
}

/** A configuration value, CLI option or config file was invalid (unknown key, wrong type, out of range). */
export class ConfigError extends ScaatError {
  override name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CONFIG_ERROR', options);
  }
}

/** A data file, dataset folder, checkpoint or model file was missing, unreadable or malformed. */
export class DataError extends ScaatError {
  override name = 'DataError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'DATA_ERROR', options);
  }
}

/** A run folder is being written by another live process (its lock is held); try again when it is done. */
export class LockedError extends ScaatError {
  override name = 'LockedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'LOCKED', options);
  }
}

/**
 * A step needs more memory than the backend can give: on wasm, more than its 4 GiB heap (wasm32
 * addresses no more). A setting causes it (the batch, the image size, a chunk), so it is a
 * ConfigError (exit code 2); the message names the step, the setting and a value that fits better.
 * The process must not go on computing after it: the heap may be left corrupted.
 */
export class HeapLimitError extends ConfigError {
  override name = 'HeapLimitError';
  override readonly code = 'HEAP_LIMIT';
}

/** Throws `ErrorClass(message())` when `cond` is false; the message is built lazily (hot paths). */
export function check(
  cond: unknown,
  message: () => string,
  ErrorClass: new (m: string) => ScaatError = ScaatError,
): asserts cond {
  if (!cond) throw new ErrorClass(message());
}
