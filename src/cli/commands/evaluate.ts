import type { Command } from 'commander';

/** `scaat evaluate`: not implemented yet. */
export function registerEvaluate(_program: Command): void {}
