import type { Command } from 'commander';

/** `scaat train`: not implemented yet. */
export function registerTrain(_program: Command): void {}
