/**
 * Seeded randomness. One `Rng` per concern (data order, init, noise, attacks), each derived from
 * the run seed with `fork(label)`, so that adding draws in one place does not shift another.
 * The generator is sfc32 (Small Fast Counting, PractRand-clean, 128-bit state); its state is four
 * uint32 words that `getState()`/`setState()` save into checkpoints.
 *
 * @example
 * const rng = new Rng(42);
 * rng.next();          // 0.3147… in [0, 1)
 * rng.nextSeed();      // an integer seed for tf.randomUniform(…, seed)
 * const noise = rng.fork('smoothgrad');
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string = 0) {
    const h = hashSeed(String(seed));
    this.a = h[0]!;
    this.b = h[1]!;
    this.c = h[2]!;
    this.d = h[3]!;
    for (let i = 0; i < 15; i++) this.nextUint32(); // discard the first outputs (sfc32 warm-up)
  }

  /** A uniform uint32. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniform float in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** A standard normal draw (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** An integer seed in [0, 2^31) for TF.js random ops (`tf.randomUniform(shape, a, b, dtype, seed)`). */
  nextSeed(): number {
    return this.nextUint32() >>> 1;
  }

  /** In-place Fisher–Yates shuffle; returns its argument. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** An independent generator derived from this one's current state and a label (does not advance this one). */
  fork(label: string | number): Rng {
    return new Rng(`${this.a},${this.b},${this.c},${this.d}/${label}`);
  }

  /** The generator state, for checkpoints. */
  getState(): [number, number, number, number] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** Restores a state from `getState()`. */
  setState(s: readonly number[]): void {
    if (s.length !== 4 || s.some((v) => !Number.isInteger(v))) {
      throw new RangeError(`Rng.setState: expected 4 integers, got ${JSON.stringify(s)}`);
    }
    this.a = s[0]! | 0;
    this.b = s[1]! | 0;
    this.c = s[2]! | 0;
    this.d = s[3]! | 0;
  }

  /** A generator restored from a saved state. */
  static fromState(s: readonly number[]): Rng {
    const r = new Rng(0);
    r.setState(s);
    return r;
  }
}

/** Derives an integer seed from a base seed and labels, e.g. `deriveSeed(seed, 'epoch', 3)`. */
export function deriveSeed(...parts: Array<string | number>): number {
  return hashSeed(parts.join('/'))[0]! >>> 1;
}

/** cyrb128: a string hash to four 32-bit words, used to seed sfc32. */
function hashSeed(str: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
