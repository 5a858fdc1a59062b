#include "omp_kernels.h"

#include "channel_sums.h"

#include <omp.h>

#include "pooling.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace scaat {
namespace {

}  // namespace

void maxPool2dBackward(const PoolShape& s, const float* x, const float* dy, float* dx) {
  if (maxPool2dBackwardTiled(s, x, dy, dx)) return;  // non-overlapping windows: pooling.cc
  const int64_t c = s.c, image = s.h * s.w * c;
  // One image per iteration: windows of different images never overlap, so no two threads
  // write the same dx.
#pragma omp parallel
  {
    std::vector<float> best(c);
    std::vector<int64_t> arg(c);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < s.n; b++) {
      const float* xb = x + b * image;
      float* dxb = dx + b * image;
      std::memset(dxb, 0, sizeof(float) * image);
      for (int64_t i = 0; i < s.oh; i++) {
        const int64_t r0 = std::max<int64_t>(i * s.sh - s.pt, 0), r1 = std::min(i * s.sh - s.pt + s.kh, s.h);
        for (int64_t j = 0; j < s.ow; j++) {
          const int64_t c0 = std::max<int64_t>(j * s.sw - s.pl, 0), c1 = std::min(j * s.sw - s.pl + s.kw, s.w);
          if (r0 >= r1 || c0 >= c1) continue;
          const int64_t first = (r0 * s.w + c0) * c;
          for (int64_t ch = 0; ch < c; ch++) {
            best[ch] = xb[first + ch];
            arg[ch] = first + ch;
          }
          for (int64_t r = r0; r < r1; r++) {
            for (int64_t q = (r == r0 ? c0 + 1 : c0); q < c1; q++) {
              const int64_t base = (r * s.w + q) * c;
              for (int64_t ch = 0; ch < c; ch++) {  // branch-free: a select, not a jump
                const bool more = xb[base + ch] > best[ch];
                best[ch] = more ? xb[base + ch] : best[ch];
                arg[ch] = more ? base + ch : arg[ch];
              }
            }
          }
          const float* g = dy + ((b * s.oh + i) * s.ow + j) * c;
          for (int64_t ch = 0; ch < c; ch++) dxb[arg[ch]] += g[ch];
        }
      }
    }
  }
}

void reluGrad(const float* dy, const float* x, int64_t n, float* dx) {
  const float* __restrict g = dy;
  const float* __restrict v = x;
  float* __restrict out = dx;
  // Branch-free, so it vectorises (with a branch, random signs mispredicted half the time: 6×
  // slower, measured), and a product, not a select: dy = NaN/∞ where x ≤ 0 gives NaN, as in TF.js.
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = g[i] * (v[i] > 0.f ? 1.f : 0.f);
}

void batchNormForward(const float* x, int64_t rows, int64_t c, const float* mean, const float* var,
                      const float* scale, const float* offset, float eps, float* y) {
  // (x − mean)·k + β rather than x·k + (β − mean·k): no cancellation when |mean| ≫ std. Local,
  // restrict-qualified copies of the [c] vectors: the compiler may then vectorise without alias checks.
  std::vector<float> m(mean, mean + c), k(c), b(c);
  for (int64_t j = 0; j < c; j++) {
    k[j] = static_cast<float>((scale ? scale[j] : 1.0) / std::sqrt(static_cast<double>(var[j]) + eps));
    b[j] = offset ? offset[j] : 0.f;
  }
  const float* __restrict mp = m.data();
  const float* __restrict kp = k.data();
  const float* __restrict bp = b.data();
#pragma omp parallel for schedule(static) if (rows * c >= (1 << 15))
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * c;
    float* __restrict yr = y + r * c;
    for (int64_t j = 0; j < c; j++) yr[j] = (xr[j] - mp[j]) * kp[j] + bp[j];
  }
}

void batchNormBackward(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* var,
                       const float* scale, float eps, float* dx, float* dmean, float* dvar, float* dscale,
                       float* doffset) {
  // [Σdy (c), Σdy·(x − mean) (c)]
  const std::vector<float> m(mean, mean + c);
  const float* __restrict mp = m.data();
  const std::vector<double> sums = detail::channelSums<2>(rows, c, [&](int64_t r, float* __restrict acc) {
    const float* __restrict xr = x + r * c;
    const float* __restrict gr = dy + r * c;
    for (int64_t j = 0; j < c; j++) {
      acc[j] += gr[j];
      acc[c + j] += gr[j] * (xr[j] - mp[j]);
    }
  });
  std::vector<float> k(c);
  for (int64_t j = 0; j < c; j++) {
    const double rj = 1.0 / std::sqrt(static_cast<double>(var[j]) + eps);
    const double g = scale ? scale[j] : 1.0;
    k[j] = static_cast<float>(g * rj);
    dmean[j] = static_cast<float>(-g * rj * sums[j]);
    dvar[j] = static_cast<float>(-0.5 * g * rj * rj * rj * sums[c + j]);
    dscale[j] = static_cast<float>(rj * sums[c + j]);
    doffset[j] = static_cast<float>(sums[j]);
  }
  const float* __restrict kp = k.data();
#pragma omp parallel for schedule(static) if (rows * c >= (1 << 15))
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict gr = dy + r * c;
    float* __restrict dr = dx + r * c;
    for (int64_t j = 0; j < c; j++) dr[j] = gr[j] * kp[j];
  }
}

}  // namespace scaat
