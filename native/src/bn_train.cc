#include "bn_train.h"

#include "channel_sums.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace scaat {
namespace {

using detail::channelSums;
using detail::kParallelMin;
constexpr int64_t kBlock = detail::kSumBlock;

/**
 * Per-channel mean and M2 = Σ(x − mean)² over rows, in double, robust to any data order: each
 * block of kBlock rows (in L1 after its first read) is summed around its own float mean c, giving
 * the block's exact mean c + Σ(x − c)/len and M2 = Σ(x − c)² − (Σ(x − c))²/len without cancellation;
 * blocks, then threads, merge with Chan et al.'s pairwise update. Results depend only on the
 * thread count.
 */
void channelMoments(const float* x, int64_t rows, int64_t c, std::vector<double>& mean, std::vector<double>& m2) {
  const int nt = detail::sumThreads(rows, c);
  struct Moments {
    std::vector<double> n, mean, m2;
  };
  std::vector<Moments> part(nt);
  const auto merge = [c](Moments& into, const double* n2, const double* mean2, const double* m22) {
    for (int64_t j = 0; j < c; j++) {
      const double n1 = into.n[j], total = n1 + n2[j];
      if (n2[j] == 0.0) continue;
      const double delta = mean2[j] - into.mean[j];
      into.mean[j] += delta * n2[j] / total;
      into.m2[j] += m22[j] + delta * delta * n1 * n2[j] / total;
      into.n[j] = total;
    }
  };
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t r0 = rows * t / n, r1 = rows * (t + 1) / n;
    Moments& acc = part[t];
    acc.n.assign(c, 0.0);
    acc.mean.assign(c, 0.0);
    acc.m2.assign(c, 0.0);
    std::vector<float> centre(c), a(c), b(c);
    std::vector<double> bn(c), bmean(c), bm2(c);
    for (int64_t b0 = r0; b0 < r1; b0 += kBlock) {
      const int64_t b1 = std::min(b0 + kBlock, r1), len = b1 - b0;
      std::fill(a.begin(), a.end(), 0.f);
      for (int64_t r = b0; r < b1; r++) {
        const float* __restrict xr = x + r * c;
        for (int64_t j = 0; j < c; j++) a[j] += xr[j];
      }
      for (int64_t j = 0; j < c; j++) centre[j] = a[j] / static_cast<float>(len);
      std::fill(a.begin(), a.end(), 0.f);
      std::fill(b.begin(), b.end(), 0.f);
      const float* __restrict cp = centre.data();
      float* __restrict ap = a.data();
      float* __restrict bp = b.data();
      for (int64_t r = b0; r < b1; r++) {
        const float* __restrict xr = x + r * c;
        for (int64_t j = 0; j < c; j++) {
          const float d = xr[j] - cp[j];
          ap[j] += d;
          bp[j] += d * d;
        }
      }
      for (int64_t j = 0; j < c; j++) {
        bn[j] = static_cast<double>(len);
        bmean[j] = centre[j] + static_cast<double>(a[j]) / len;
        bm2[j] = std::max(0.0, static_cast<double>(b[j]) - static_cast<double>(a[j]) * a[j] / len);
      }
      merge(acc, bn.data(), bmean.data(), bm2.data());
    }
  }
  Moments total{std::vector<double>(c, 0.0), std::vector<double>(c, 0.0), std::vector<double>(c, 0.0)};
  for (const Moments& p : part) merge(total, p.n.data(), p.mean.data(), p.m2.data());
  mean = std::move(total.mean);
  m2 = std::move(total.m2);
}

}  // namespace

void batchNormTrainForward(const float* x, int64_t rows, int64_t c, const float* scale, const float* offset,
                           float eps, float* y, float* mean, float* var) {
  std::vector<double> md, m2;
  channelMoments(x, rows, c, md, m2);
  // The mean as float32 plus its rounding error, mlo: y uses (x − mean) − mlo, the exact mean's
  // deviation (x − mean is exact for x near the mean), as the backward pass does.
  std::vector<float> m(c), lo(c), k(c), o(c);
  const double n = static_cast<double>(rows);
  for (int64_t j = 0; j < c; j++) {
    const double exact = md[j];
    mean[j] = static_cast<float>(exact);
    var[j] = static_cast<float>(m2[j] / n);
    m[j] = mean[j];
    lo[j] = static_cast<float>(exact - mean[j]);
    k[j] = static_cast<float>((scale ? scale[j] : 1.0) / std::sqrt(static_cast<double>(var[j]) + eps));
    o[j] = offset ? offset[j] : 0.f;
  }
  const float* __restrict mp = m.data();
  const float* __restrict lp = lo.data();
  const float* __restrict kp = k.data();
  const float* __restrict op = o.data();
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * c;
    float* __restrict yr = y + r * c;
    for (int64_t j = 0; j < c; j++) yr[j] = ((xr[j] - mp[j]) - lp[j]) * kp[j] + op[j];
  }
}

void batchNormTrainBackward(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,
                            const float* var, const float* scale, const float* dmean, const float* dvar, float eps,
                            float* dx, float* dscale, float* doffset) {
  // Σdy, Σdy·(x − mean), Σ(x − mean): the last gives the float32 mean's rounding error (mlo), so the
  // deviations below are those from the exact batch mean, as in the forward pass.
  const float* __restrict mp = mean;
  const std::vector<double> s = channelSums<3>(rows, c, [&](int64_t r, float* __restrict acc) {
    const float* __restrict xr = x + r * c;
    const float* __restrict gr = dy + r * c;
    for (int64_t j = 0; j < c; j++) {
      const float d = xr[j] - mp[j];
      acc[j] += gr[j];
      acc[c + j] += gr[j] * d;
      acc[2 * c + j] += d;
    }
  });
  std::vector<float> ka(c), kb(c), kc(c), lo(c);
  const double n = static_cast<double>(rows);
  for (int64_t j = 0; j < c; j++) {
    const double mlo = s[2 * c + j] / n;
    const double s1 = s[j], s2 = s[c + j] - mlo * s1;  // Σdy·(x − exact mean)
    const double r = 1.0 / std::sqrt(static_cast<double>(var[j]) + eps);
    const double g = scale ? scale[j] : 1.0;
    const double gm = dmean ? dmean[j] : 0.0, gv = dvar ? dvar[j] : 0.0;
    lo[j] = static_cast<float>(mlo);
    ka[j] = static_cast<float>(g * r);
    kb[j] = static_cast<float>(2.0 * gv / n - g * r * r * r * s2 / n);
    kc[j] = static_cast<float>((gm - g * r * s1) / n);
    dscale[j] = static_cast<float>(r * s2);
    doffset[j] = static_cast<float>(s1);
  }
  const float* __restrict ap = ka.data();
  const float* __restrict bp = kb.data();
  const float* __restrict cp = kc.data();
  const float* __restrict lp = lo.data();
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * c;
    const float* __restrict gr = dy + r * c;
    float* __restrict dr = dx + r * c;
    for (int64_t j = 0; j < c; j++) dr[j] = ap[j] * gr[j] + bp[j] * ((xr[j] - mp[j]) - lp[j]) + cp[j];
  }
}

}  // namespace scaat
