import type { Command } from 'commander';

/** `scaat report`: not implemented yet. */
export function registerReport(_program: Command): void {}
