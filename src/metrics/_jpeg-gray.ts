/**
 * A baseline grayscale (one-component) JPEG encoder that follows libjpeg's defaults step by step,
 * so its output has the size a Python user gets from PIL (`Image.fromarray(u8).save(f, 'JPEG',
 * quality=75)`, libjpeg-turbo):
 *
 * 1. IJG quality scaling of the standard luminance table (ITU T.81 K.1): s = q < 50 ? 5000/q :
 *    200 − 2q; Q_i = clamp(floor((T_i·s + 50)/100), 1, 255).
 * 2. Edge replication to whole 8×8 blocks, level shift by −128.
 * 3. The accurate integer forward DCT of libjpeg (jfdctint.c, "islow": 13-bit constants, 2 extra
 *    bits in pass 1), output scaled by 8, and quantisation by rounding division by 8·Q_i.
 * 4. Huffman coding with the standard luminance tables (K.3), byte stuffing, 1-padding.
 * 5. Markers as libjpeg writes them: SOI, APP0 (JFIF 1.01), DQT, SOF0, DHT (DC, AC), SOS, EOI.
 *
 * jpeg-js (the project's JPEG package) encodes only 3-component YCbCr; a gray map replicated to
 * RGB would add the chroma tables and two all-zero chroma blocks per block to the size, so this
 * encoder exists to measure a true grayscale JPEG. Decoding is left to jpeg-js (tests).
 */

const ZIGZAG = [
  0, 1, 5, 6, 14, 15, 27, 28, 2, 4, 7, 13, 16, 26, 29, 42, 3, 8, 12, 17, 25, 30, 41, 43, 9, 11, 18, 24, 31, 40, 44, 53, 10,
  19, 23, 32, 39, 45, 52, 54, 20, 22, 33, 38, 46, 51, 55, 60, 21, 34, 37, 47, 50, 56, 59, 61, 35, 36, 48, 49, 57, 58, 62, 63,
]; // ZIGZAG[natural index] = position in zig-zag order

const STD_LUMINANCE_QT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80,
  62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98,
  112, 100, 103, 99,
];

const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_VALS = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81,
  0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18,
  0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
  0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75,
  0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
  0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
  0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5,
  0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];

/** Canonical Huffman codes (T.81 C.2): symbol → [code, length]. */
function huffmanTable(bits: readonly number[], vals: readonly number[]): { code: Uint16Array; size: Uint8Array } {
  const code = new Uint16Array(256);
  const size = new Uint8Array(256);
  let c = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) {
      code[vals[k]!] = c;
      size[vals[k]!] = len;
      c++;
      k++;
    }
    c <<= 1;
  }
  return { code, size };
}
const DC_TABLE = huffmanTable(DC_BITS, DC_VALS);
const AC_TABLE = huffmanTable(AC_BITS, AC_VALS);

/** libjpeg's quantisation table for a quality in [1, 100] (natural order). */
export function luminanceTable(quality: number): Int32Array {
  const q = Math.min(Math.max(Math.round(quality), 1), 100);
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - q * 2;
  return Int32Array.from(STD_LUMINANCE_QT, (t) => Math.min(Math.max(Math.floor((t * scale + 50) / 100), 1), 255));
}

// jfdctint.c constants (CONST_BITS = 13)
const CONST_BITS = 13;
const PASS1_BITS = 2;
const F_0_298 = 2446;
const F_0_390 = 3196;
const F_0_541 = 4433;
const F_0_765 = 6270;
const F_0_899 = 7373;
const F_1_175 = 9633;
const F_1_501 = 12299;
const F_1_847 = 15137;
const F_1_961 = 16069;
const F_2_053 = 16819;
const F_2_562 = 20995;
const F_3_072 = 25172;

/** Rounding right shift on exact integers (floor division, as C's arithmetic >>). */
function descale(x: number, n: number): number {
  return Math.floor((x + 2 ** (n - 1)) / 2 ** n);
}

/** In-place jpeg_fdct_islow on 64 level-shifted samples (row-major); output scaled by 8. */
function fdctIslow(d: Float64Array): void {
  // pass 1 (rows, stride 1) keeps PASS1_BITS extra bits; pass 2 (columns, stride 8) removes them
  for (let pass = 0; pass < 2; pass++) {
    const s = pass === 0 ? 1 : 8;
    const next = pass === 0 ? 8 : 1;
    const shiftOdd = pass === 0 ? CONST_BITS - PASS1_BITS : CONST_BITS + PASS1_BITS;
    for (let r = 0; r < 8; r++) {
      const o = r * next;
      const d0 = d[o]!, d1 = d[o + s]!, d2 = d[o + 2 * s]!, d3 = d[o + 3 * s]!;
      const d4 = d[o + 4 * s]!, d5 = d[o + 5 * s]!, d6 = d[o + 6 * s]!, d7 = d[o + 7 * s]!;
      const tmp0 = d0 + d7;
      let tmp7 = d0 - d7;
      const tmp1 = d1 + d6;
      let tmp6 = d1 - d6;
      const tmp2 = d2 + d5;
      let tmp5 = d2 - d5;
      const tmp3 = d3 + d4;
      let tmp4 = d3 - d4;
      const tmp10 = tmp0 + tmp3;
      const tmp13 = tmp0 - tmp3;
      const tmp11 = tmp1 + tmp2;
      const tmp12 = tmp1 - tmp2;
      if (pass === 0) {
        d[o] = (tmp10 + tmp11) * 4; // LEFT_SHIFT(·, PASS1_BITS)
        d[o + 4 * s] = (tmp10 - tmp11) * 4;
      } else {
        d[o] = descale(tmp10 + tmp11, PASS1_BITS);
        d[o + 4 * s] = descale(tmp10 - tmp11, PASS1_BITS);
      }
      let z1 = (tmp12 + tmp13) * F_0_541;
      d[o + 2 * s] = descale(z1 + tmp13 * F_0_765, shiftOdd);
      d[o + 6 * s] = descale(z1 - tmp12 * F_1_847, shiftOdd);
      z1 = tmp4 + tmp7;
      let z2 = tmp5 + tmp6;
      let z3 = tmp4 + tmp6;
      let z4 = tmp5 + tmp7;
      const z5 = (z3 + z4) * F_1_175;
      tmp4 *= F_0_298;
      tmp5 *= F_2_053;
      tmp6 *= F_3_072;
      tmp7 *= F_1_501;
      z1 *= -F_0_899;
      z2 *= -F_2_562;
      z3 = z3 * -F_1_961 + z5;
      z4 = z4 * -F_0_390 + z5;
      d[o + 7 * s] = descale(tmp4 + z1 + z3, shiftOdd);
      d[o + 5 * s] = descale(tmp5 + z2 + z4, shiftOdd);
      d[o + 3 * s] = descale(tmp6 + z2 + z3, shiftOdd);
      d[o + s] = descale(tmp7 + z1 + z4, shiftOdd);
    }
  }
}

class BitWriter {
  private buf: Uint8Array;
  length = 0;
  private acc = 0;
  private nbits = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(capacity, 1024));
  }
  byte(b: number): void {
    if (this.length >= this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b;
  }
  bytes(bs: ArrayLike<number>): void {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i]!);
  }
  word(w: number): void {
    this.byte((w >> 8) & 0xff);
    this.byte(w & 0xff);
  }
  /** Writes the low `n` (≤ 16) bits of `v`, MSB first, with 0xFF byte stuffing. */
  bits(v: number, n: number): void {
    this.acc = (this.acc << n) | (v & ((1 << n) - 1));
    this.nbits += n;
    while (this.nbits >= 8) {
      const b = (this.acc >> (this.nbits - 8)) & 0xff;
      this.byte(b);
      if (b === 0xff) this.byte(0);
      this.nbits -= 8;
    }
    this.acc &= (1 << this.nbits) - 1;
  }
  /** Pads the last byte with 1-bits (T.81 F.1.2.3). */
  flush(): void {
    if (this.nbits > 0) this.bits((1 << (8 - this.nbits)) - 1, 8 - this.nbits);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Magnitude category (number of bits) of a coefficient. */
function category(v: number): number {
  let a = Math.abs(v);
  let n = 0;
  while (a > 0) {
    n++;
    a >>= 1;
  }
  return n;
}

/**
 * Encodes an 8-bit grayscale image (row-major, width·height bytes) as a baseline JPEG.
 * @example encodeGrayJpeg(u8, 32, 32, 75).length   // bytes of the file
 */
export function encodeGrayJpeg(pixels: Uint8Array, width: number, height: number, quality = 75): Uint8Array {
  const qt = luminanceTable(quality);
  const out = new BitWriter(1024 + width * height);
  // 5) headers: SOI, APP0 JFIF 1.01 (no units, 1:1), DQT, SOF0, DHT ×2, SOS
  out.word(0xffd8);
  out.word(0xffe0);
  out.word(16);
  out.bytes([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  out.word(0xffdb);
  out.word(67);
  out.byte(0);
  const zz = new Array<number>(64);
  for (let i = 0; i < 64; i++) zz[ZIGZAG[i]!] = qt[i]!;
  out.bytes(zz);
  out.word(0xffc0);
  out.word(11);
  out.byte(8);
  out.word(height);
  out.word(width);
  out.bytes([1, 1, 0x11, 0]);
  for (const [cls, bits, vals] of [[0x00, DC_BITS, DC_VALS], [0x10, AC_BITS, AC_VALS]] as const) {
    out.word(0xffc4);
    out.word(2 + 1 + 16 + vals.length);
    out.byte(cls);
    out.bytes(bits);
    out.bytes(vals);
  }
  out.word(0xffda);
  out.word(8);
  out.bytes([1, 1, 0x00, 0, 63, 0]);

  const block = new Float64Array(64);
  const coef = new Int32Array(64); // zig-zag order
  let prevDc = 0;
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      // 2) edge replication + level shift
      for (let y = 0; y < 8; y++) {
        const row = Math.min(by + y, height - 1) * width;
        for (let x = 0; x < 8; x++) block[y * 8 + x] = pixels[row + Math.min(bx + x, width - 1)]! - 128;
      }
      // 3) DCT (scaled by 8) and rounding division by 8·Q
      fdctIslow(block);
      for (let i = 0; i < 64; i++) {
        const div = qt[i]! * 8;
        const t = block[i]!;
        const q = t < 0 ? -Math.floor((-t + (div >> 1)) / div) : Math.floor((t + (div >> 1)) / div);
        coef[ZIGZAG[i]!] = q;
      }
      // 4) Huffman: DC difference, then AC run lengths
      const diff = coef[0]! - prevDc;
      prevDc = coef[0]!;
      const dcCat = category(diff);
      out.bits(DC_TABLE.code[dcCat]!, DC_TABLE.size[dcCat]!);
      if (dcCat > 0) out.bits(diff < 0 ? diff + (1 << dcCat) - 1 : diff, dcCat);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const v = coef[k]!;
        if (v === 0) {
          run++;
          continue;
        }
        while (run > 15) {
          out.bits(AC_TABLE.code[0xf0]!, AC_TABLE.size[0xf0]!);
          run -= 16;
        }
        const cat = category(v);
        const sym = (run << 4) | cat;
        out.bits(AC_TABLE.code[sym]!, AC_TABLE.size[sym]!);
        out.bits(v < 0 ? v + (1 << cat) - 1 : v, cat);
        run = 0;
      }
      if (run > 0) out.bits(AC_TABLE.code[0x00]!, AC_TABLE.size[0x00]!);
    }
  }
  out.flush();
  out.word(0xffd9);
  return out.result();
}
