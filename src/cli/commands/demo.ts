import type { Command } from 'commander';

/** `scaat demo`: not implemented yet. */
export function registerDemo(_program: Command): void {}
