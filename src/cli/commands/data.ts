/**
 * `scaat data`: look at datasets.
 *
 *   scaat data inspect SOURCE [--split S] [--json]   format, count, shape, classes, label histogram
 *   scaat data inspect SOURCE --verify                 … and read (decode) every sample, listing the
 *                                                      unreadable ones (exit 3 if any)
 *   scaat data cache SOURCE [--split S] [--cache-dir D]  decode an image folder once into a cache file
 *   scaat data list                                   the named datasets
 *
 * SOURCE is a named dataset (mnist, fashion-mnist, synthetic, cifar10-jpg, cifar10, pcam; options
 * as `synthetic:count=2000,imageSize=28`) or a path whose format is detected.
 */
import type { Command } from 'commander';
import { ConfigError, DataError } from '../../errors.js';
import { amount, parseOption } from '../../io/config-schema.js';
import {
  availableSplits,
  DATASETS,
  formatSummary,
  formatVerify,
  inspectDataset,
  openDataset,
  parseDataSource,
  verifyDataset,
  type DatasetSummary,
  type OpenDatasetOptions,
  type VerifyReport,
} from '../../datasets/index.js';

interface DataFlags {
  split?: string;
  path?: string;
  imageSize?: string;
  resize?: string;
  channels?: string;
  skipBadFiles?: boolean;
  json?: boolean;
  verify?: boolean;
  cacheDir?: string;
  cache?: boolean | string;
}

/** An integer ≥ 1 flag (io/numbers.ts reads it), or undefined when not given. */
function positiveInt(flag: string, v: string | undefined): number | undefined {
  return v === undefined ? undefined : parseOption(amount({ integer: true, min: 1 }), v, `--${flag}`);
}

/** Source string + flags → openDataset options (flags override the source string's options). */
function resolveOptions(spec: string, flags: DataFlags): OpenDatasetOptions {
  const { source, options } = parseDataSource(spec);
  const o: OpenDatasetOptions = { ...options, source };
  if (flags.path !== undefined) o.path = flags.path;
  const imageSize = positiveInt('image-size', flags.imageSize);
  if (imageSize !== undefined) o.imageSize = imageSize;
  const resize = positiveInt('resize', flags.resize);
  if (resize !== undefined) o.resize = resize;
  const channels = positiveInt('channels', flags.channels);
  if (channels !== undefined) {
    if (channels !== 1 && channels !== 3) throw new ConfigError(`--channels: expected 1 or 3, got ${channels}`);
    o.channels = channels;
  }
  if (flags.skipBadFiles) o.onBadFile = 'skip';
  if (flags.cache !== undefined) o.cache = flags.cache;
  return o;
}

async function summarise(o: OpenDatasetOptions, split: string, verify: boolean): Promise<DatasetSummary & { verify?: VerifyReport }> {
  const ds = await openDataset({ ...o, split });
  try {
    const summary = await inspectDataset(ds);
    if (!verify) return summary;
    let last = 0;
    const report = await verifyDataset(ds, {
      onProgress: (done, total) => {
        if (Date.now() - last < 5000 && done < total) return;
        last = Date.now();
        process.stderr.write(`verify ${split}: ${done}/${total} samples read\n`);
      },
    });
    return { ...summary, verify: report };
  } finally {
    await ds.close?.();
  }
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--split <name>', 'split to read (default: every split found)')
    .option('--path <dir>', 'folder of a named dataset that lives on disk (fashion-mnist, cifar10-jpg, cifar10, pcam)')
    .option('--image-size <n>', 'image folders: output side after resize and centre crop (default: the first image\'s shorter side)')
    .option('--resize <n>', 'image folders: shorter side before the centre crop (default: --image-size)')
    .option('--channels <n>', 'image folders and synthetic: 1 or 3')
    .option('--skip-bad-files', 'image folders: skip files that are not readable JPEG/PNG images (with a warning) instead of failing');
}

/** Registers `scaat data`. */
export function registerData(program: Command): void {
  const data = program.command('data').description('inspect datasets and build decoded caches');

  commonOptions(
    data
      .command('inspect')
      .description('print what a dataset is: format, count, shape, classes, label histogram')
      .argument('<source>', 'a named dataset (e.g. mnist, synthetic:count=2000) or a path'),
  )
    .option('--cache [dir]', 'image folders: read through (and build if missing) the decoded cache')
    .option('--verify', 'also read (decode) every sample and list the unreadable ones (exit 3 if any)')
    .option('--json', 'print JSON instead of text')
    .action(async (spec: string, flags: DataFlags) => {
      const o = resolveOptions(spec, flags);
      const splits = flags.split ? [flags.split] : availableSplits(o.source, o);
      const out: Array<DatasetSummary & { verify?: VerifyReport }> = [];
      for (const split of splits) out.push(await summarise(o, split, flags.verify === true));
      const text = (s: DatasetSummary & { verify?: VerifyReport }): string => formatSummary(s) + (s.verify ? `\n${formatVerify(s, s.verify)}` : '');
      process.stdout.write(flags.json ? JSON.stringify(out, null, 2) + '\n' : out.map(text).join('\n\n') + '\n');
      const bad = out.filter((s) => s.verify && s.verify.bad.length > 0);
      if (bad.length > 0) {
        throw new DataError(`${bad.map((s) => `${s.split}: ${s.verify!.bad.length} of ${s.count} samples`).join(', ')} of ${spec} cannot be read (listed above)`);
      }
    });

  commonOptions(
    data
      .command('cache')
      .description('decode an image folder once into a compact binary cache file (later opens with cache read it)')
      .argument('<source>', 'an image folder root or cifar10-jpg'),
  )
    .option('--cache-dir <dir>', 'where the cache file goes (default: $SCAAT_CACHE_DIR or ~/.cache/scaat)')
    .action(async (spec: string, flags: DataFlags) => {
      const o = resolveOptions(spec, { ...flags, cache: flags.cacheDir ?? true });
      const splits = flags.split ? [flags.split] : availableSplits(o.source, o);
      for (const split of splits) {
        let last = 0;
        const t0 = performance.now();
        const ds = await openDataset({
          ...o,
          split,
          onProgress: (done, total) => {
            const now = performance.now();
            if (now - last > 1000 || done === total) {
              last = now;
              process.stderr.write(`\r${split}: decoded ${done}/${total}`);
              if (done === total) process.stderr.write('\n');
            }
          },
        });
        try {
          if (ds.format !== 'image-folder' && ds.format !== 'cifar10-jpg') {
            throw new ConfigError(`data cache: expected an image folder (only they are decoded), got format '${ds.format}'`);
          }
          process.stdout.write(`${split}: ${ds.size} images ${ds.shape.join('×')} in ${ds.source} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
        } finally {
          await ds.close?.();
        }
      }
    });

  data
    .command('list')
    .description('list the named datasets')
    .action(() => {
      const width = Math.max(...[...DATASETS.keys()].map((k) => k.length));
      for (const [name, spec] of DATASETS) process.stdout.write(`${name.padEnd(width)}  ${spec.description}\n`);
    });
}
