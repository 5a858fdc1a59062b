import type { Command } from 'commander';

/** `scaat data`: not implemented yet. */
export function registerData(_program: Command): void {}
