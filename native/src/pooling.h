// scaat native max pooling over NHWC float32, parallel with OpenMP over output rows: the forward
// pass, and the gradient's fast path for non-overlapping windows (stride = window, no padding).
//
// What does not live here: the general max-pool gradient (overlapping windows, padding), which
// is omp_kernels.cc's maxPool2dBackward (it calls the fast path here first); average pooling.
#pragma once

#include "omp_kernels.h"

namespace scaat {

/**
 * y = max over each window as the TF.js cpu backend: windows clipped to the image (padding never
 * wins), the maximum starts at −∞ and takes a value only when greater (NaN never wins; an all-NaN
 * window gives −∞).
 */
void maxPool2dForward(const PoolShape& s, const float* x, float* y);

/**
 * dx of max pooling when the windows tile the image without overlap (sh = kh, sw = kw, no
 * padding before, every window inside): each dy goes to its window's first maximum in row-major
 * window order (the same rule as maxPool2dBackward), every other dx is 0, rows and columns no
 * window covers included. One pass writing each dx once (no memset, no scatter).
 * @returns false, having done nothing, when the geometry is not of that kind.
 */
bool maxPool2dBackwardTiled(const PoolShape& s, const float* x, const float* dy, float* dx);

}  // namespace scaat
