import type { Command } from 'commander';

/** `scaat compare`: not implemented yet. */
export function registerCompare(_program: Command): void {}
