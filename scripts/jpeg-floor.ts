/**
 * The saliency-size metric's floor: the bytes of a constant map (every pixel 0) encoded exactly as
 * the metric encodes a map (saliencySize, grayscale JPEG at quality 75), per image side. The JPEG's
 * headers (quantisation and Huffman tables) and the least coding of each 8×8 block are in every
 * map's file, so at 28–32 px they are about half of a saliency map's bytes and dilute a change in
 * size about twofold; at 224 px they are a few per cent. `--change` prints a measured change both
 * ways: of the whole file (the metric, the poster's figure) and of the bytes above the floor.
 *
 *   npx tsx scripts/jpeg-floor.ts                                   # the floor at 28, 32, 96 and 224 px
 *   npx tsx scripts/jpeg-floor.ts --change 28:0.617:0.556           # side:regular KB:SCAAT KB
 */
import { scriptArgs } from './_args.js';
import { saliencySize } from '../src/metrics/saliency-size.js';

const { values, positionals } = scriptArgs({ allowPositionals: true, options: { change: { type: 'string', multiple: true, default: [] } } }, 'npx tsx scripts/jpeg-floor.ts [SIDE_PX...] [--change SIDE:REGULAR_KB:SCAAT_KB]...');
const sides = positionals.length > 0 ? positionals.map(Number) : [28, 32, 96, 224];
const floorKb = (side: number) => saliencySize(new Uint8Array(side * side), side, side);
const pct = (from: number, to: number) => `${(100 * (to / from - 1)).toFixed(1)} %`;

console.log('| side (px) | constant map (KB) | bytes |');
console.log('|---:|---:|---:|');
for (const side of sides) {
  if (!(Number.isInteger(side) && side >= 1)) {
    console.error(`jpeg-floor.ts: expected image sides as positive integers, got '${side}'`);
    process.exit(2);
  }
  console.log(`| ${side} | ${floorKb(side).toFixed(3)} | ${Math.round(floorKb(side) * 1024)} |`);
}
if (values.change!.length > 0) {
  console.log('');
  console.log('| side (px) | regular (KB) | SCAAT (KB) | change of the file | change above the floor |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const c of values.change!) {
    const [side, regular, scaat] = c.split(':').map(Number);
    if (!(Number.isInteger(side) && side! >= 1 && regular! > 0 && scaat! > 0)) {
      console.error(`jpeg-floor.ts: --change expects side:regularKB:scaatKB (e.g. 28:0.617:0.556), got '${c}'`);
      process.exit(2);
    }
    const f = floorKb(side!);
    console.log(`| ${side} | ${regular} | ${scaat} | ${pct(regular!, scaat!)} | ${regular! > f && scaat! > f ? pct(regular! - f, scaat! - f) : '— (a size at the floor)'} |`);
  }
}
