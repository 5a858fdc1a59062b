/*
 * The filter gradient of a 2-D convolution in WebAssembly SIMD, for the pure-wasm path
 * (src/engine/kernels/conv2d.ts): XNNPACK, which runs TF.js's wasm convolutions, packs and TF.js
 * transposes a convolution's filter at every call, and every way of writing the filter gradient as
 * an XNNPACK convolution makes x or dy that filter. This kernel reads x and dy where they lie
 * (NHWC, channels innermost) and accumulates outer products:
 *
 *   dW[p, q, c, o] = sum_{b, i, j} x[b, i*sh + p*dh - top, j*sw + q*dw - left, c] * dy[b, i, j, o]
 *
 * (taps outside x read zero padding and are skipped). Each output tile (4 input channels x 8 or 4
 * output channels of one tap) is summed in registers over one image's pixels, images in order, so
 * every value is the same sequence of float32 operations whatever share of the work a thread takes.
 * Built by scripts/build-wasm-kernels.mjs; no libc, no stack, no data: it reads and writes only the
 * memory its pointers name (the importing backend's heap).
 */
#include <wasm_simd128.h>

static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int imin(int a, int b) { return a < b ? a : b; }

/* First index i in [0, n) with 0 <= i*s + off, and one past the last with i*s + off < size. */
static inline int first_valid(int off, int s) { return off >= 0 ? 0 : (-off + s - 1) / s; }
static inline int end_valid(int off, int s, int size, int n) {
  if (size - off <= 0) return 0;
  return imin(n, (size - off + s - 1) / s);
}

/* One tile: MR input channels (1 or 4) x NV vectors of 4 output channels (1 or 2), over ni x nj
 * output pixels of one image; x points at the first pixel's channel c, g at dy's first pixel's
 * channel o, d at dW[tap, c, o]. Accumulators are named locals (no arrays: nothing may spill to a
 * stack in memory this module does not own). */
static inline __attribute__((always_inline)) void tile(const int MR, const int NV, float* d, int Co,
    const float* x, int xrow, int xpix, const float* g, int grow, int ni, int nj) {
  const v128_t z = wasm_f32x4_splat(0.0f);
  v128_t a00 = wasm_v128_load(d), a01 = NV > 1 ? wasm_v128_load(d + 4) : z;
  v128_t a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
  if (MR > 1) {
    a10 = wasm_v128_load(d + Co), a20 = wasm_v128_load(d + 2 * Co), a30 = wasm_v128_load(d + 3 * Co);
    if (NV > 1) a11 = wasm_v128_load(d + Co + 4), a21 = wasm_v128_load(d + 2 * Co + 4), a31 = wasm_v128_load(d + 3 * Co + 4);
  }
  for (int i = 0; i < ni; i++) {
    const float* xp = x + i * xrow;
    const float* gp = g + i * grow;
    for (int j = 0; j < nj; j++) {
      const v128_t g0 = wasm_v128_load(gp), g1 = NV > 1 ? wasm_v128_load(gp + 4) : z;
      const v128_t x0 = wasm_v128_load32_splat(xp);
      a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(x0, g0));
      if (NV > 1) a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(x0, g1));
      if (MR > 1) {
        const v128_t x1 = wasm_v128_load32_splat(xp + 1), x2 = wasm_v128_load32_splat(xp + 2), x3 = wasm_v128_load32_splat(xp + 3);
        a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(x1, g0));
        a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(x2, g0));
        a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(x3, g0));
        if (NV > 1) {
          a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(x1, g1));
          a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(x2, g1));
          a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(x3, g1));
        }
      }
      xp += xpix;
      gp += Co;
    }
  }
  wasm_v128_store(d, a00);
  if (NV > 1) wasm_v128_store(d + 4, a01);
  if (MR > 1) {
    wasm_v128_store(d + Co, a10), wasm_v128_store(d + 2 * Co, a20), wasm_v128_store(d + 3 * Co, a30);
    if (NV > 1) wasm_v128_store(d + Co + 4, a11), wasm_v128_store(d + 2 * Co + 4, a21), wasm_v128_store(d + 3 * Co + 4, a31);
  }
}

#define TILE_ROWS(MR)                                                                  \
  do {                                                                                 \
    int o = 0;                                                                         \
    for (; o + 8 <= Co; o += 8) tile(MR, 2, d + o, Co, xs, xrow, xpix, gs + o, grow, ni, nj); \
    if (o < Co) tile(MR, 1, d + o, Co, xs, xrow, xpix, gs + o, grow, ni, nj);         \
  } while (0)

/*
 * Accumulates into dw ([kh, kw, Ci, Co], zeroed by the caller for a fresh gradient) the work items
 * w0 .. w1 - 1 (a thread's share) over images 0 .. B - 1. Item w is tap w / G and input channels
 * 4 * (w % G) .. (up to Ci), G = ceil(Ci / 4): disjoint parts of dw, each computed the same way
 * whatever the split. Co must be a multiple of 4.
 */
__attribute__((export_name("filter_grad")))
void filter_grad(const float* x, const float* dy, float* dw, int B, int H, int W, int Ci,
                 int OH, int OW, int Co, int kh, int kw, int sh, int sw, int dh, int dwl,
                 int top, int left, int w0, int w1) {
  const int xrow = sh * W * Ci, xpix = sw * Ci, grow = OW * Co, G = (Ci + 3) / 4;
  for (int b = 0; b < B; b++) {
    const float* xb = x + (long)b * H * W * Ci;
    const float* gb = dy + (long)b * OH * OW * Co;
    for (int w = w0; w < w1; w++) {
      const int t = w / G, c0 = 4 * (w % G), c1 = imin(Ci, c0 + 4);
      const int p = t / kw, q = t % kw;
      const int ro = p * dh - top, co_ = q * dwl - left; /* x row = i*sh + ro, x col = j*sw + co_ */
      const int i0 = first_valid(ro, sh), i1 = end_valid(ro, sh, H, OH);
      const int j0 = first_valid(co_, sw), j1 = end_valid(co_, sw, W, OW);
      if (i0 >= i1 || j0 >= j1) continue;
      const int ni = i1 - i0, nj = j1 - j0;
      const float* xt = xb + ((long)(i0 * sh + ro) * W + (j0 * sw + co_)) * Ci;
      const float* gs = gb + ((long)i0 * OW + j0) * Co;
      float* dt = dw + (long)t * Ci * Co;
      if (c1 - c0 == 4) { const float* xs = xt + c0; float* d = dt + (long)c0 * Co; TILE_ROWS(4); }
      else for (int c = c0; c < c1; c++) { const float* xs = xt + c; float* d = dt + (long)c * Co; TILE_ROWS(1); }
    }
  }
}
