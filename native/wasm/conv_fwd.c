/*
 * A 2-D convolution's forward pass in WebAssembly SIMD (NHWC x, filter [kh, kw, Ci, Co], Co a
 * multiple of 4), for the pure-wasm path (src/engine/kernels/_conv-fwd.ts):
 *
 *   y[b, i, j, o] = sum_{p, q, c} x[b, i*sh + p*dh - top, j*sw + q*dw - left, c] * f[p, q, c, o]
 *
 * XNNPACK, which runs TF.js's wasm Conv2D, creates an operator (filter transposed and packed, an
 * indirection buffer of every tap's input pointer) for every new filter, i.e. every training step
 * and every input gradient; this kernel reads x and f where they lie. Each tile (4 output pixels of
 * one row x 8 or 4 output channels) is summed in registers over the taps (p, q) and channels c in
 * order, taps in padding reading `zero` (Ci zeros the caller provides) or, for whole padded rows,
 * skipped; so every value is the same sequence of float32 operations whatever share of the rows a
 * thread takes. No libc, no stack, no data, as filter_grad.c.
 */
#include <wasm_simd128.h>

#define MAC(a, xv, g) a = wasm_f32x4_add(a, wasm_f32x4_mul(xv, g))

static inline __attribute__((always_inline)) const float* pix(const float* xr, const float* zero, int col, int W, int Ci) {
  return col >= 0 && col < W ? xr + col * Ci : zero;
}

/* MR (1 or 4) output pixels j0, j0 + 1, ... of row i (x rows from r0 = i*sh - top, columns from
 * c0 = j0*sw - left) x NV (1 or 2) vectors of output channels from f's column o (f points there). */
static inline __attribute__((always_inline)) void tile(const int MR, const int NV, float* y, int Co,
    const float* xb, const float* zero, const float* f, int H, int W, int Ci, int kh, int kw,
    int sw, int dh, int dwl, int r0, int c0) {
  const v128_t z = wasm_f32x4_splat(0.0f);
  v128_t a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
  for (int p = 0; p < kh; p++) {
    const int r = r0 + p * dh;
    if (r < 0 || r >= H) continue;
    const float* xr = xb + r * W * Ci;
    for (int q = 0; q < kw; q++) {
      const int cq = c0 + q * dwl;
      const float* x0 = pix(xr, zero, cq, W, Ci);
      const float* x1 = MR > 1 ? pix(xr, zero, cq + sw, W, Ci) : zero;
      const float* x2 = MR > 1 ? pix(xr, zero, cq + 2 * sw, W, Ci) : zero;
      const float* x3 = MR > 1 ? pix(xr, zero, cq + 3 * sw, W, Ci) : zero;
      const float* g = f + (p * kw + q) * Ci * Co;
      for (int c = 0; c < Ci; c++) {
        const v128_t g0 = wasm_v128_load(g), g1 = NV > 1 ? wasm_v128_load(g + 4) : z;
        const v128_t v0 = wasm_v128_load32_splat(x0 + c);
        MAC(a00, v0, g0);
        if (NV > 1) MAC(a01, v0, g1);
        if (MR > 1) {
          const v128_t v1 = wasm_v128_load32_splat(x1 + c), v2 = wasm_v128_load32_splat(x2 + c), v3 = wasm_v128_load32_splat(x3 + c);
          MAC(a10, v1, g0);
          MAC(a20, v2, g0);
          MAC(a30, v3, g0);
          if (NV > 1) {
            MAC(a11, v1, g1);
            MAC(a21, v2, g1);
            MAC(a31, v3, g1);
          }
        }
        g += Co;
      }
    }
  }
  wasm_v128_store(y, a00);
  if (NV > 1) wasm_v128_store(y + 4, a01);
  if (MR > 1) {
    wasm_v128_store(y + Co, a10), wasm_v128_store(y + 2 * Co, a20), wasm_v128_store(y + 3 * Co, a30);
    if (NV > 1) wasm_v128_store(y + Co + 4, a11), wasm_v128_store(y + 2 * Co + 4, a21), wasm_v128_store(y + 3 * Co + 4, a31);
  }
}

/*
 * Writes the output rows w0 .. w1 - 1 (a thread's share) of y [B, OH, OW, Co]: item w is image
 * w / OH, row w % OH. `zero` points at Ci zeros. Co must be a multiple of 4.
 */
__attribute__((export_name("conv_fwd")))
void conv_fwd(const float* x, const float* f, float* y, const float* zero, int B, int H, int W, int Ci,
              int OH, int OW, int Co, int kh, int kw, int sh, int sw, int dh, int dwl, int top, int left,
              int w0, int w1) {
  (void)B;
  for (int w = w0; w < w1; w++) {
    const int b = w / OH, i = w % OH, r0 = i * sh - top;
    const float* xb = x + b * H * W * Ci;
    float* yr = y + w * OW * Co;
    int o = 0;
    for (; o + 8 <= Co; o += 8) {
      int j = 0;
      for (; j + 4 <= OW; j += 4) tile(4, 2, yr + j * Co + o, Co, xb, zero, f + o, H, W, Ci, kh, kw, sw, dh, dwl, r0, j * sw - left);
      for (; j < OW; j++) tile(1, 2, yr + j * Co + o, Co, xb, zero, f + o, H, W, Ci, kh, kw, sw, dh, dwl, r0, j * sw - left);
    }
    if (o < Co) {
      int j = 0;
      for (; j + 4 <= OW; j += 4) tile(4, 1, yr + j * Co + o, Co, xb, zero, f + o, H, W, Ci, kh, kw, sw, dh, dwl, r0, j * sw - left);
      for (; j < OW; j++) tile(1, 1, yr + j * Co + o, Co, xb, zero, f + o, H, W, Ci, kh, kw, sw, dh, dwl, r0, j * sw - left);
    }
  }
}
