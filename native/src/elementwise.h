// scaat native glue kernels between the convolutions: float32 binary ops with a last-axis
// broadcast (bias add), ReLU and per-channel sums (the bias gradient), parallel with OpenMP over
// contiguous blocks. They exist because TF.js's wasm versions run on one thread.
//
// What does not live here: pooling (pooling.h), the ReLU gradient and batch norm (omp_kernels.h),
// anything oneDNN computes (onednn_kernels.h).
#pragma once

#include <cstdint>

#include "op_codes.h"  // BinaryOp, Broadcast

namespace scaat {

/**
 * out[i] = a' op b' for i < n, in float32 (exactly TF.js's result), where
 *   Broadcast::same:    a' = a[i],       b' = b[i]        (same shape; m = n)
 *   Broadcast::vectorB: a' = a[i],       b' = b[i mod m]  (b a vector over a's last axis, or a scalar: m = 1)
 *   Broadcast::vectorA: a' = a[i mod m], b' = b[i]        (a the vector)
 * m must divide n. `out` must not overlap a or b.
 */
void binary(BinaryOp op, Broadcast broadcast, int64_t n, int64_t m, const float* a, const float* b, float* out);

/** y = max(x, 0) over n values as the TF.js cpu backend (Math.max(0, x)): relu(NaN) = NaN, relu(−0) = +0. */
void relu(const float* x, int64_t n, float* y);

/**
 * out[j] = scale · Σ_r x[r, j] over x [rows, c] (row-major), summed in double: each thread sums a
 * contiguous block of rows into its own partial, so the result depends only on the thread count.
 */
void channelSum(const float* x, int64_t rows, int64_t c, double scale, float* out);

}  // namespace scaat
