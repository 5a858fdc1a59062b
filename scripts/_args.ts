/**
 * The command lines of the scripts and benchmarks (bench/): node:util parseArgs, with `--help` / `-h` printing the script's usage
 * (exit 0) and a bad command line (an unknown option, an option without its value, a stray
 * positional) answered by the script's name, what was wrong and the usage on stderr, exit 2, no
 * stack trace.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

export function scriptArgs<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  const argv = config.args ?? process.argv.slice(2);
  const script = path.basename(process.argv[1] ?? 'script');
  const options = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv; // after '--' every argument is positional
  if (options.includes('--help') || options.includes('-h')) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  try {
    return parseArgs<T>(config);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw e;
    // node's message ends with advice about '--' that does not apply here; keep its first sentence
    console.error(`${script}: ${(e as Error).message.split('. ')[0]!.replace(/\.$/, '')}\nusage: ${usage}`);
    process.exit(2);
  }
}
