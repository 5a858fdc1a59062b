// Per-channel reductions over NHWC data viewed as rows × channels, shared by the batch-norm
// kernels: float sums over short row blocks (vectorised over channels) added into double totals.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace scaat {
namespace detail {

/** Rows summed in float before they are added into the double totals (short: exact to ~1e-7). */
constexpr int64_t kSumBlock = 32;
/** Fewer values than this run on one thread: waking the others costs more than the pass. */
constexpr int64_t kParallelMin = 1 << 15;

/** Threads for a pass over rows × c values: one below kParallelMin, never more than row blocks. */
inline int sumThreads(int64_t rows, int64_t c) {
  if (rows * c < kParallelMin) return 1;
  return std::max(1, std::min<int>(omp_get_max_threads(), static_cast<int>((rows + kSumBlock - 1) / kSumBlock)));
}

/**
 * K per-channel sums over rows into double totals: each thread takes a contiguous block of rows
 * (so the result depends only on the thread count), sums kSumBlock rows at a time in float
 * (`add(r, acc)` adds row r's K quantities to acc[k·c + j]), then adds the block into its double
 * partials. Returns the K·c totals.
 */
template <int K, class F>
std::vector<double> channelSums(int64_t rows, int64_t c, F&& add) {
  const int nt = sumThreads(rows, c);
  std::vector<double> partial(static_cast<size_t>(nt) * K * c, 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t r0 = rows * t / n, r1 = rows * (t + 1) / n;
    double* p = partial.data() + static_cast<size_t>(t) * K * c;
    std::vector<float> f(static_cast<size_t>(K) * c);
    for (int64_t b0 = r0; b0 < r1; b0 += kSumBlock) {
      std::fill(f.begin(), f.end(), 0.f);
      const int64_t b1 = std::min(b0 + kSumBlock, r1);
      for (int64_t r = b0; r < b1; r++) add(r, f.data());
      for (int64_t i = 0; i < K * c; i++) p[i] += f[i];
    }
  }
  std::vector<double> total(static_cast<size_t>(K) * c, 0.0);
  for (int t = 0; t < nt; t++) {
    for (int64_t i = 0; i < K * c; i++) total[i] += partial[static_cast<size_t>(t) * K * c + i];
  }
  return total;
}

}  // namespace detail
}  // namespace scaat
