// Training-mode batch normalisation in one kernel each way: the batch statistics, the normalised
// output and the full gradient (through the statistics), over NHWC data viewed as rows × channels.
// Parallel with OpenMP (oneDNN's runtime: one thread pool); sums accumulate in double.
#pragma once

#include <cstdint>

namespace scaat {

/**
 * Batch statistics and output: per channel, mean = Σx / n and var = Σ(x − mean)² / n (biased, as
 * tf.moments), then y = (x − mean) · γ / √(var + ε) + β. x, y [rows, c]; γ, β [c] (may be null:
 * 1 and 0); mean, var [c] outputs. One pass for the statistics (per-block moments merged in
 * double, so no data order costs digits), one for y.
 */
void batchNormTrainForward(const float* x, int64_t rows, int64_t c, const float* scale, const float* offset,
                           float eps, float* y, float* mean, float* var);

/**
 * The gradient of batchNormTrainForward w.r.t. x, γ and β, given dy and the gradients dmean, dvar
 * reaching its mean and var outputs (may be null: zero). With r = (var + ε)^(−1/2), n = rows,
 * S1 = Σdy, S2 = Σdy·(x − mean) (sums over rows):
 *   dx = γr·dy + (2·dvar/n − γr³·S2/n)·(x − mean) + (dmean − γr·S1)/n,
 *   dγ = r·S2,  dβ = S1.
 * Two passes: the sums, then dx.
 */
void batchNormTrainBackward(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,
                            const float* var, const float* scale, const float* dmean, const float* dvar, float eps,
                            float* dx, float* dscale, float* doffset);

}  // namespace scaat
