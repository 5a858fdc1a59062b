// scaat native kernels on oneDNN: the math, no Node.js. Every pointer is a caller-owned NHWC/HWIO
// float32 buffer (in scaat, a view of the TF.js wasm heap); nothing here allocates what it returns.
#pragma once

#include <cstdint>
#include <string>

#include "op_codes.h"  // Act: the activation fused after a convolution or matmul

namespace scaat {

/** Geometry of y = conv2d(x, w): x [n, h, w, c] NHWC, w [kh, kw, c, oc] HWIO, y [n, oh, ow, oc]. */
struct ConvShape {
  int64_t n, h, w, c, oc, kh, kw, oh, ow;
  int64_t sh, sw;   // strides
  int64_t dh, dw;   // dilations (1 = none; TF.js convention)
  int64_t pt, pl;   // padding before (top, left)
  int64_t pb, pr;   // padding after: exactly what makes oh, ow (may be < TF's; < 0 when rows go unread)
};

/** y = act(conv2d(x, w) + bias); bias may be null (then no bias). */
void conv2dForward(const ConvShape& s, const float* x, const float* w, const float* bias, Act act, float alpha,
                   float* y);
/** dx = ∂L/∂x of y = conv2d(x, w) given dy. */
void conv2dBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx);
/** dw = ∂L/∂w of y = conv2d(x, w) given dy. */
void conv2dBackwardWeights(const ConvShape& s, const float* x, const float* dy, float* dw);

/**
 * Batched row-major matmul: for each b < batch, C_b = act(op(A_b) · op(B_b) + bias).
 * op(A_b) is [m, k], op(B_b) is [k, n]; A_b starts at a + b·strideA (strideA = 0 broadcasts).
 * bias (may be null) has n values added to every row.
 */
void matmul(int64_t batch, int64_t m, int64_t n, int64_t k, bool transA, bool transB, const float* a,
            int64_t strideA, const float* b, int64_t strideB, const float* bias, Act act, float alpha, float* c);

/** Threads oneDNN (OpenMP) computes with. */
void setThreads(int threads);
int threads();
/** e.g. "oneDNN 2.6.3 (cpu isa: avx2)". */
std::string describe();

}  // namespace scaat
