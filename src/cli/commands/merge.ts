import type { Command } from 'commander';

/** `scaat merge`: not implemented yet. */
export function registerMerge(_program: Command): void {}
