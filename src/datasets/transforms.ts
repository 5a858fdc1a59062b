/**
 * Pure pixel transforms on plain typed arrays (no tensors): uint8 → [0, 1] floats, resize and
 * centre crop (for image folders), and the training augmentation (random crop with zero padding,
 * horizontal flip) applied identically to an image and its ground-truth mask.
 *
 * Augmentation randomness is a pure function of (seed, epoch, sample index), so a resumed run and
 * any batch size see the same augmented sample.
 */
import { Rng, deriveSeed } from '../engine/random.js';

/** Training augmentation of a dataset (used when `BatchOptions.augment` is true). */
export interface Augmentation {
  /**
   * Random crop with padding: pad each side with `padding` zero pixels, then crop back to H×W at a
   * uniformly random offset (torchvision `RandomCrop(size, padding)`). 0 disables it.
   */
  readonly padding: number;
  /** Horizontal flip with probability 1/2 (torchvision `RandomHorizontalFlip()`). */
  readonly flip: boolean;
}

/** No augmentation. */
export const NO_AUGMENTATION: Augmentation = { padding: 0, flip: false };

/** One sample's augmentation draw: out(h, w) = in(h + dy, (flip ? W−1−w : w) + dx), zero outside. */
export interface AugmentDraw {
  readonly dy: number;
  readonly dx: number;
  readonly flip: boolean;
}

/**
 * The augmentation of sample `index` in `epoch`: dy, dx uniform in [−padding, padding], then the
 * flip coin, from `Rng(deriveSeed(seed, 'augment', epoch, index))`.
 */
export function drawAugmentation(aug: Augmentation, seed: number, epoch: number, index: number): AugmentDraw {
  if (aug.padding === 0 && !aug.flip) return { dy: 0, dx: 0, flip: false };
  const rng = new Rng(deriveSeed(seed, 'augment', epoch, index));
  const p = aug.padding;
  const dy = p > 0 ? rng.nextInt(2 * p + 1) - p : 0;
  const dx = p > 0 ? rng.nextInt(2 * p + 1) - p : 0;
  const flip = aug.flip ? rng.next() < 0.5 : false;
  return { dy, dx, flip };
}

/**
 * Applies a draw to one H×W×C image (or an H×W×1 mask) stored at `offset` in `data`, in place;
 * `scratch` must hold H·W·C values of the same type. Pixels shifted in from outside are 0.
 */
export function applyAugmentation<T extends Float32Array | Uint8Array>(
  data: T,
  offset: number,
  h: number,
  w: number,
  c: number,
  d: AugmentDraw,
  scratch: T,
): void {
  if (d.dy === 0 && d.dx === 0 && !d.flip) return;
  const n = h * w * c;
  scratch.set(data.subarray(offset, offset + n));
  for (let y = 0; y < h; y++) {
    const sy = y + d.dy;
    for (let x = 0; x < w; x++) {
      const sx = (d.flip ? w - 1 - x : x) + d.dx;
      const o = offset + (y * w + x) * c;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
        for (let k = 0; k < c; k++) data[o + k] = 0;
      } else {
        const s = (sy * w + sx) * c;
        for (let k = 0; k < c; k++) data[o + k] = scratch[s + k]!;
      }
    }
  }
}

/**
 * Where each pixel of an augmented h×w image comes from, the mapping {@link applyAugmentation}
 * applies: for output pixel p (row-major, y·w + x), the flat index of its source pixel in the
 * un-augmented image, or −1 where the output is zero padding. Written into `out` (length h·w).
 */
export function augmentationSource(d: AugmentDraw, h: number, w: number, out: Int32Array = new Int32Array(h * w)): Int32Array {
  for (let y = 0; y < h; y++) {
    const sy = y + d.dy;
    for (let x = 0; x < w; x++) {
      const sx = (d.flip ? w - 1 - x : x) + d.dx;
      out[y * w + x] = sy < 0 || sy >= h || sx < 0 || sx >= w ? -1 : sy * w + sx;
    }
  }
  return out;
}

/**
 * The pixel of the view drawn by `from` that shows what pixel p of the view drawn by `to` shows:
 * out[p] = q with the same source pixel of the un-augmented image ({@link augmentationSource}), or
 * −1 where p is zero padding or its content was not in the `from` view. `scratch` holds 3·h·w
 * values (reused across calls). Carries per-pixel state made on one view to another (cached maps'
 * ranks, kept attack directions).
 */
export function viewCorrespondence(from: AugmentDraw, to: AugmentDraw, h: number, w: number, out: Int32Array, scratch: Int32Array = new Int32Array(3 * h * w)): Int32Array {
  const n = h * w;
  const srcOld = augmentationSource(from, h, w, scratch.subarray(0, n));
  const srcNew = augmentationSource(to, h, w, scratch.subarray(n, 2 * n));
  const where = scratch.subarray(2 * n, 3 * n).fill(-1); // source pixel → its pixel in the `from` view
  for (let q = 0; q < n; q++) {
    const o = srcOld[q]!;
    if (o >= 0) where[o] = q;
  }
  for (let p = 0; p < n; p++) {
    const o = srcNew[p]!;
    out[p] = o >= 0 ? where[o]! : -1;
  }
  return out;
}

/** v / 255 for every byte value (a table lookup is exact and faster than dividing). */
const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Writes `n` bytes of `src` from `srcOffset`, scaled to [0, 1] (v / 255), into `dst` at `dstOffset`. */
export function bytesToUnit(src: Uint8Array, dst: Float32Array, dstOffset = 0, srcOffset = 0, n = src.length - srcOffset): void {
  for (let i = 0; i < n; i++) dst[dstOffset + i] = UNIT[src[srcOffset + i]!]!;
}

/**
 * Converts interleaved pixels with `cin` channels to `cout` channels (1 or 3): RGB → luma with
 * ITU-R 601 weights (0.299, 0.587, 0.114, as PIL's 'L'), grey → RGB by copying; an alpha channel
 * (cin = 2 or 4) is dropped. Returns uint8.
 */
export function convertChannels(src: Uint8Array, pixels: number, cin: number, cout: 1 | 3): Uint8Array {
  if (cin === cout) return src;
  const out = new Uint8Array(pixels * cout);
  const grey = cin < 3;
  for (let p = 0; p < pixels; p++) {
    const s = p * cin;
    if (cout === 3) {
      if (grey) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = src[s]!;
      else {
        out[p * 3] = src[s]!;
        out[p * 3 + 1] = src[s + 1]!;
        out[p * 3 + 2] = src[s + 2]!;
      }
    } else {
      out[p] = grey ? src[s]! : Math.round(0.299 * src[s]! + 0.587 * src[s + 1]! + 0.114 * src[s + 2]!);
    }
  }
  return out;
}

/** Size after resizing the shorter side to `shorter` and keeping the aspect ratio (torchvision `Resize(int)`). */
export function resizedShape(h: number, w: number, shorter: number): [number, number] {
  if (h <= w) return [shorter, Math.max(1, Math.round((shorter * w) / h))];
  return [Math.max(1, Math.round((shorter * h) / w)), shorter];
}

/**
 * Resamples an interleaved uint8 image [h, w, c] to [dh, dw, c] with an antialiased bilinear
 * (triangle) filter whose support widens with the downscale factor, as PIL's `Image.resize(…,
 * BILINEAR)` and torchvision's `antialias=True`; rounds to uint8. Returns `src` when the size is
 * unchanged.
 */
export function resizeBilinear(src: Uint8Array, h: number, w: number, c: number, dh: number, dw: number): Uint8Array {
  if (h === dh && w === dw) return src;
  // Separable: rows first (w → dw), then columns (h → dh), in float.
  const tmp = new Float32Array(h * dw * c);
  const cx = filterTaps(w, dw);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < dw; x++) {
      const { start, weights } = cx[x]!;
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let t = 0; t < weights.length; t++) acc += weights[t]! * src[(y * w + start + t) * c + k]!;
        tmp[(y * dw + x) * c + k] = acc;
      }
    }
  }
  const out = new Uint8Array(dh * dw * c);
  const cy = filterTaps(h, dh);
  for (let y = 0; y < dh; y++) {
    const { start, weights } = cy[y]!;
    for (let x = 0; x < dw; x++) {
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let t = 0; t < weights.length; t++) acc += weights[t]! * tmp[((start + t) * dw + x) * c + k]!;
        out[(y * dw + x) * c + k] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  return out;
}

/** Triangle-filter taps for resampling n → m samples (PIL `precompute_coeffs`). */
function filterTaps(n: number, m: number): Array<{ start: number; weights: Float64Array }> {
  const scale = n / m;
  const support = Math.max(scale, 1); // triangle radius 1, widened when downscaling
  const taps: Array<{ start: number; weights: Float64Array }> = [];
  for (let i = 0; i < m; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(n, Math.ceil(centre + support));
    const weights = new Float64Array(hi - lo);
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      const wgt = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      weights[j - lo] = wgt;
      sum += wgt;
    }
    for (let t = 0; t < weights.length; t++) weights[t] /= sum;
    taps.push({ start: lo, weights });
  }
  return taps;
}

/** Python's round(): halves to the nearest even integer. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/**
 * The central [size, size] window of an interleaved [h, w, c] image (torchvision `CenterCrop`:
 * offsets round((h − size)/2), halves to even as Python rounds); zero where the image is smaller.
 */
export function centerCrop(src: Uint8Array, h: number, w: number, c: number, size: number): Uint8Array {
  if (h === size && w === size) return src;
  const top = roundHalfEven((h - size) / 2);
  const left = roundHalfEven((w - size) / 2);
  const out = new Uint8Array(size * size * c);
  for (let y = 0; y < size; y++) {
    const sy = y + top;
    for (let x = 0; x < size; x++) {
      const sx = x + left;
      const o = (y * size + x) * c;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue; // image smaller than the crop: zero pad
      const s = (sy * w + sx) * c;
      for (let k = 0; k < c; k++) out[o + k] = src[s + k]!;
    }
  }
  return out;
}
