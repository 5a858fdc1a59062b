/**
 * The CLI's verbs, written out by hand (one file per verb, each owning its options).
 */
import type { Command } from 'commander';
import { registerTrain } from './train.js';
import { registerExplain } from './explain.js';
import { registerEvaluate } from './evaluate.js';
import { registerMerge } from './merge.js';
import { registerCompare } from './compare.js';
import { registerReport } from './report.js';
import { registerData } from './data.js';
import { registerDemo } from './demo.js';
import { registerSweep } from './sweep.js';

/** Adds every subcommand to `program`. */
export function registerCommands(program: Command): void {
  registerTrain(program);
  registerExplain(program);
  registerEvaluate(program);
  registerMerge(program);
  registerCompare(program);
  registerReport(program);
  registerData(program);
  registerDemo(program);
  registerSweep(program);
}
