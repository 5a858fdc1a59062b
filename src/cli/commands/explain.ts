import type { Command } from 'commander';

/** `scaat explain`: not implemented yet. */
export function registerExplain(_program: Command): void {}
