#include "elementwise.h"

#include <omp.h>

#include <algorithm>
#include <vector>

namespace scaat {
namespace {

/**
 * Below this many values a kernel runs on the calling thread: waking the (passive) OpenMP
 * threads costs more than the work. The TypeScript side leaves smaller tensors on wasm anyway.
 */
constexpr int64_t kParallelMin = 1 << 15;

/**
 * f(i0, i1) over [0, n) cut into one contiguous chunk per thread (boundaries on multiples of 16
 * values: whole cache lines, so no two threads write the same line).
 */
template <class F>
void forChunks(int64_t n, F&& f) {
  const int nt = n >= kParallelMin ? omp_get_max_threads() : 1;
  if (nt <= 1) {
    f(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t i0 = (n * t / T) & ~int64_t{15};
    const int64_t i1 = t + 1 == T ? n : (n * (t + 1) / T) & ~int64_t{15};
    if (i0 < i1) f(i0, i1);
  }
}

struct AddOp {
  float operator()(float x, float y) const { return x + y; }
};
struct SubOp {
  float operator()(float x, float y) const { return x - y; }
};
struct MulOp {
  float operator()(float x, float y) const { return x * y; }
};

// The inner loops take __restrict pointers so that they vectorise without overlap checks.
template <class Op>
void both(Op op, const float* __restrict x, const float* __restrict y, float* __restrict o, int64_t len) {
  for (int64_t k = 0; k < len; k++) o[k] = op(x[k], y[k]);
}
template <class Op>
void scalarRight(Op op, const float* __restrict x, float s, float* __restrict o, int64_t len) {
  for (int64_t k = 0; k < len; k++) o[k] = op(x[k], s);
}
template <class Op>
void scalarLeft(Op op, float s, const float* __restrict y, float* __restrict o, int64_t len) {
  for (int64_t k = 0; k < len; k++) o[k] = op(s, y[k]);
}

template <class Op>
void binaryOf(Op op, Broadcast broadcast, int64_t n, int64_t m, const float* a, const float* b, float* out) {
  forChunks(n, [&](int64_t i0, int64_t i1) {
    if (broadcast == Broadcast::same) {
      both(op, a + i0, b + i0, out + i0, i1 - i0);
    } else if (m == 1) {
      if (broadcast == Broadcast::vectorB) scalarRight(op, a + i0, b[0], out + i0, i1 - i0);
      else scalarLeft(op, a[0], b + i0, out + i0, i1 - i0);
    } else {
      // Row segments of the chunk: the vector restarts at j = 0 on every row.
      for (int64_t i = i0, j = i0 % m; i < i1; j = 0) {
        const int64_t len = std::min(m - j, i1 - i);
        if (broadcast == Broadcast::vectorB) both(op, a + i, b + j, out + i, len);
        else both(op, a + j, b + i, out + i, len);
        i += len;
      }
    }
  });
}

void reluRange(const float* __restrict x, float* __restrict y, int64_t len) {
  // `x <= 0 ? 0 : x`, not max(x, 0): NaN stays NaN and −0 becomes +0, as Math.max(0, x).
  for (int64_t k = 0; k < len; k++) y[k] = x[k] <= 0.f ? 0.f : x[k];
}

void sumRows(const float* __restrict x, int64_t rows, int64_t c, double* __restrict acc) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* x0 = x + r * c;
    const float* x1 = x0 + c;
    const float* x2 = x1 + c;
    const float* x3 = x2 + c;
    for (int64_t j = 0; j < c; j++) {
      acc[j] += (static_cast<double>(x0[j]) + x1[j]) + (static_cast<double>(x2[j]) + x3[j]);
    }
  }
  for (; r < rows; r++) {
    const float* xr = x + r * c;
    for (int64_t j = 0; j < c; j++) acc[j] += xr[j];
  }
}

}  // namespace

void binary(BinaryOp op, Broadcast broadcast, int64_t n, int64_t m, const float* a, const float* b, float* out) {
  switch (op) {
    case BinaryOp::add: binaryOf(AddOp{}, broadcast, n, m, a, b, out); break;
    case BinaryOp::sub: binaryOf(SubOp{}, broadcast, n, m, a, b, out); break;
    case BinaryOp::mul: binaryOf(MulOp{}, broadcast, n, m, a, b, out); break;
  }
}

void relu(const float* x, int64_t n, float* y) {
  forChunks(n, [&](int64_t i0, int64_t i1) { reluRange(x + i0, y + i0, i1 - i0); });
}

void channelSum(const float* x, int64_t rows, int64_t c, double scale, float* out) {
  const int nt = rows * c >= kParallelMin ? omp_get_max_threads() : 1;
  // Each partial on its own cache lines (no false sharing between the threads' accumulators).
  const int64_t stride = (c + 7) / 8 * 8 + 8;
  std::vector<double> partial(static_cast<size_t>(nt * stride), 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t r0 = rows * t / T, r1 = rows * (t + 1) / T;
    sumRows(x + r0 * c, r1 - r0, c, partial.data() + t * stride);
  }
  for (int64_t j = 0; j < c; j++) {
    double s = 0;
    for (int t = 0; t < nt; t++) s += partial[static_cast<size_t>(t * stride + j)];
    out[j] = static_cast<float>(s * scale);
  }
}

}  // namespace scaat
