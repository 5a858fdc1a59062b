// scaat native kernels that no library call covers in TF.js's exact form: the max-pool gradient
// and batch-norm passes over NHWC data viewed as rows × channels, parallel with OpenMP (the
// runtime oneDNN already uses: one thread pool). Sums accumulate in double.
#pragma once

#include <cstdint>

namespace scaat {

/** Geometry of a 2-D pooling window over NHWC x [n, h, w, c] → y [n, oh, ow, c]; pt, pl: padding before. */
struct PoolShape {
  int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl;
};

/**
 * dx of y = maxpool(x) given dy: each dy goes to its window's first maximum in row-major window
 * order (TF's cpu kernel; padding never wins; overlapping windows accumulate).
 */
void maxPool2dBackward(const PoolShape& s, const float* x, const float* dy, float* dx);

/** dx = dy · [x > 0] over n values (the ReLU gradient as TF.js defines it: dy · step(x)). */
void reluGrad(const float* dy, const float* x, int64_t n, float* dx);

/**
 * y = (x − mean) · γ / √(var + ε) + β per channel, x and y [rows, c]; mean/var/γ/β [c]
 * (γ, β may be null: 1 and 0).
 */
void batchNormForward(const float* x, int64_t rows, int64_t c, const float* mean, const float* var,
                      const float* scale, const float* offset, float eps, float* y);

/**
 * The gradient of batchNormForward w.r.t. x, mean, var, γ and β given dy (mean and var as inputs,
 * not batch statistics: their gradients are separate outputs). With r = (var + ε)^(−1/2):
 *   dx = dy · γ · r,  dmean = −γ · r · Σdy,  dvar = −½ · γ · r³ · Σdy·(x − mean),
 *   dscale = r · Σdy·(x − mean),  doffset = Σdy      (sums over rows).
 */
void batchNormBackward(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* var,
                       const float* scale, float eps, float* dx, float* dmean, float* dvar, float* dscale,
                       float* doffset);

}  // namespace scaat
