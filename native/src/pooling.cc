#include "pooling.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

namespace scaat {
namespace {

/** Below this many input values a pooling kernel runs on the calling thread (see elementwise.cc). */
constexpr int64_t kParallelMin = 1 << 15;
/** Largest window (kh · kw) of the tiled gradient; larger ones take the general path. */
constexpr int64_t kMaxWindow = 64;

void maxInto(float* __restrict o, const float* __restrict p, int64_t c) {
  // `p > o ? p : o` with o starting at −∞: the cpu backend's rule (NaN never replaces the maximum).
  for (int64_t k = 0; k < c; k++) o[k] = p[k] > o[k] ? p[k] : o[k];
}

/**
 * One 2×2 window of the tiled gradient, all channels: p0…p3 its pixels in row-major order, d0…d3
 * their dx. Written as selects on unconditionally loaded values so that the loop vectorises (an
 * argmax index variable does not, with GCC 12).
 */
void window2x2(const float* __restrict p0, const float* __restrict p1, const float* __restrict p2,
               const float* __restrict p3, float* __restrict d0, float* __restrict d1, float* __restrict d2,
               float* __restrict d3, const float* __restrict g, int64_t c) {
  for (int64_t ch = 0; ch < c; ch++) {
    // + 0: dy = −0 gives +0, as TF's 0 + dy (every select below then is exact).
    const float v0 = p0[ch], v1 = p1[ch], v2 = p2[ch], v3 = p3[ch], gv = g[ch] + 0.f;
    const bool m1 = v1 > v0;  // pixel 1 beats pixel 0
    const float b1 = m1 ? v1 : v0;
    const bool m2 = v2 > b1;  // pixel 2 beats both
    const float b2 = m2 ? v2 : b1;
    const bool m3 = v3 > b2;  // pixel 3 beats all: it is the argmax
    // The gradient left once the later winners have taken it, down to pixel 0.
    d3[ch] = m3 ? gv : 0.f;
    const float g2 = m3 ? 0.f : gv;
    d2[ch] = m2 ? g2 : 0.f;
    const float g1 = m2 ? 0.f : g2;
    d1[ch] = m1 ? g1 : 0.f;
    d0[ch] = m1 ? 0.f : g1;
  }
}

/**
 * One window of any size: `off[t]` is the offset of window pixel t (row-major) from the first;
 * `best`, `rem` scratch of c values. The maximum first (the first pixel, replaced only by a greater
 * value: NaN never replaces it, and it is NaN only if pixel 0 is), then dy goes to the first pixel
 * equal to it (pixel 0 when it is NaN): the same pixel as a running argmax, in loops over the
 * channels that vectorise.
 */
void windowAny(const float* __restrict xw, float* __restrict dxw, const int64_t* off, int64_t window,
               const float* __restrict g, int64_t c, float* __restrict best, float* __restrict rem) {
  for (int64_t ch = 0; ch < c; ch++) best[ch] = xw[ch];
  for (int64_t t = 1; t < window; t++) {
    const float* __restrict xt = xw + off[t];
    for (int64_t ch = 0; ch < c; ch++) best[ch] = xt[ch] > best[ch] ? xt[ch] : best[ch];
  }
  for (int64_t ch = 0; ch < c; ch++) {
    const float v = xw[ch], b = best[ch], gv = g[ch] + 0.f;  // −0 → +0, as 0 + dy
    const bool hit = v == b || b != b;
    dxw[ch] = hit ? gv : 0.f;
    rem[ch] = hit ? 0.f : gv;
  }
  for (int64_t t = 1; t < window; t++) {
    const float* __restrict xt = xw + off[t];
    float* __restrict dt = dxw + off[t];
    for (int64_t ch = 0; ch < c; ch++) {
      const float v = xt[ch], b = best[ch], r = rem[ch];
      const bool hit = v == b;
      dt[ch] = hit ? r : 0.f;
      rem[ch] = hit ? 0.f : r;
    }
  }
}

void tiled(const PoolShape& s, const float* x, const float* dy, float* dx) {
  const int64_t c = s.c, rowStride = s.w * c, window = s.kh * s.kw;
  const int64_t coveredW = s.ow * s.kw, coveredH = s.oh * s.kh;
  int64_t off[kMaxWindow];
  for (int64_t p = 0; p < s.kh; p++) {
    for (int64_t q = 0; q < s.kw; q++) off[p * s.kw + q] = p * rowStride + q * c;
  }
  const bool is2x2 = s.kh == 2 && s.kw == 2;
  const bool parallel = s.n * s.h * s.w * s.c >= kParallelMin;
#pragma omp parallel if (parallel)
  {
    std::vector<float> best(is2x2 ? 0 : c), rem(is2x2 ? 0 : c);
    // One window row (kh image rows of one image) per iteration: disjoint dx rows per thread.
#pragma omp for schedule(static)
    for (int64_t bi = 0; bi < s.n * s.oh; bi++) {
      const int64_t b = bi / s.oh, i = bi % s.oh;
      const int64_t row0 = (b * s.h + i * s.kh) * rowStride;
      for (int64_t j = 0; j < s.ow; j++) {
        const int64_t at = row0 + j * s.kw * c;
        const float* g = dy + (bi * s.ow + j) * c;
        if (is2x2) {
          const float* xw = x + at;
          float* dw = dx + at;
          window2x2(xw, xw + c, xw + rowStride, xw + rowStride + c, dw, dw + c, dw + rowStride, dw + rowStride + c, g, c);
        } else {
          windowAny(x + at, dx + at, off, window, g, c, best.data(), rem.data());
        }
      }
      if (coveredW < s.w) {  // columns right of the last window
        for (int64_t p = 0; p < s.kh; p++) {
          std::memset(dx + row0 + p * rowStride + coveredW * c, 0, sizeof(float) * (s.w - coveredW) * c);
        }
      }
      if (i == s.oh - 1 && coveredH < s.h) {  // rows below the last window
        std::memset(dx + (b * s.h + coveredH) * rowStride, 0, sizeof(float) * (s.h - coveredH) * rowStride);
      }
    }
  }
}

}  // namespace

void maxPool2dForward(const PoolShape& s, const float* x, float* y) {
  const int64_t c = s.c;
  const bool parallel = s.n * s.h * s.w * s.c >= kParallelMin;
  // One output row per iteration.
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t bi = 0; bi < s.n * s.oh; bi++) {
    const int64_t b = bi / s.oh, i = bi % s.oh;
    const int64_t r0 = std::max<int64_t>(i * s.sh - s.pt, 0), r1 = std::min(i * s.sh - s.pt + s.kh, s.h);
    for (int64_t j = 0; j < s.ow; j++) {
      const int64_t c0 = std::max<int64_t>(j * s.sw - s.pl, 0), c1 = std::min(j * s.sw - s.pl + s.kw, s.w);
      float* out = y + (bi * s.ow + j) * c;
      for (int64_t k = 0; k < c; k++) out[k] = -std::numeric_limits<float>::infinity();
      for (int64_t r = r0; r < r1; r++) {
        for (int64_t q = c0; q < c1; q++) maxInto(out, x + ((b * s.h + r) * s.w + q) * c, c);
      }
    }
  }
}

bool maxPool2dBackwardTiled(const PoolShape& s, const float* x, const float* dy, float* dx) {
  if (s.sh != s.kh || s.sw != s.kw || s.pt != 0 || s.pl != 0 || s.oh * s.kh > s.h || s.ow * s.kw > s.w) return false;
  const int64_t window = s.kh * s.kw;
  if (window > kMaxWindow) return false;
  tiled(s, x, dy, dx);
  return true;
}

}  // namespace scaat
