// The names of everything the addon's callers pass as numbers: the modes (activation, convolution
// op, batch-norm op, binary op, broadcast) and every slot of each kernel's Float64Array of
// parameters. The TypeScript side is src/engine/native/op-codes.ts, with the same names; the
// addon exports this table (`opCodes()`, addon.cc) and src/engine/native/op-codes.test.ts checks
// the two entry by entry, so neither side can add, drop or renumber an entry alone.
//
// Each list is an X-macro, X(name) once per entry in order: an entry's code (a mode) or index (a
// parameter slot) is its position in the list, and its name is the same identifier here, in the
// exported table and in op-codes.ts. A parameter block is one struct with an unscoped enum of its
// slots, closed by `length` (the number of slots the caller passes).
#pragma once

#include <cstddef>

// ---- Modes -------------------------------------------------------------------------------------

/** Activation fused after a convolution or matmul, named as TF.js's fused ops name them. */
#define SCAAT_ACT(X) X(linear) X(relu) X(relu6) X(elu) X(sigmoid) X(leakyrelu)
/** What conv2d computes: y from (x, w), dx from (dy, w), or dw from (x, dy). */
#define SCAAT_CONV_OP(X) X(forward) X(backwardData) X(backwardWeights)
/**
 * What batchNorm computes: with given statistics (forward; backward, whose gradients include
 * those reaching the statistics inputs) or with batch statistics (training: forward also returns
 * mean and variance; backward goes through them).
 */
#define SCAAT_BATCH_NORM_OP(X) X(forward) X(backward) X(trainingForward) X(trainingBackward)
/** The binary op of elementwise. */
#define SCAAT_BINARY_OP(X) X(add) X(sub) X(mul)
/** elementwise's operand shapes: a, b [n] (same); a [n], b [m] (vectorB); a [m], b [n] (vectorA). */
#define SCAAT_BROADCAST(X) X(same) X(vectorB) X(vectorA)

// ---- Parameter blocks --------------------------------------------------------------------------
// off*: the byte offset of a float32 operand in the heap (-1 for an absent optional one).

/** Pooling geometry (PoolShape): x [n, h, w, c] → y [n, oh, ow, c], window kh × kw, strides, padding before. */
#define SCAAT_POOL_GEOMETRY(X) X(n) X(h) X(w) X(c) X(oh) X(ow) X(kh) X(kw) X(sh) X(sw) X(pt) X(pl)

/**
 * conv2d (ConvShape; act, alpha as for matmul). By op: forward off0 = x, off1 = w, offBias = bias
 * or -1, offOut = y; backwardData off0 = dy, off1 = w, offOut = dx; backwardWeights off0 = x,
 * off1 = dy, offOut = dw (offBias unused by both).
 */
#define SCAAT_CONV2D_PARAMS(X)                                                                              \
  X(op) X(n) X(h) X(w) X(c) X(oc) X(kh) X(kw) X(oh) X(ow) X(sh) X(sw) X(dh) X(dw) X(pt) X(pl) X(pb) X(pr) \
  X(act) X(alpha) X(off0) X(off1) X(offBias) X(offOut)
/** maxPool2dGrad: dx [n, h, w, c] of max pooling x given dy [n, oh, ow, c]. */
#define SCAAT_MAX_POOL2D_GRAD_PARAMS(X) SCAAT_POOL_GEOMETRY(X) X(offX) X(offDy) X(offDx)
/**
 * matmul: C = act(op(A) · op(B) + bias) per batch matrix; transA/transB 0 or 1; strides in
 * values between consecutive batch matrices (0 broadcasts one); alpha: leakyrelu's slope.
 */
#define SCAAT_MATMUL_PARAMS(X) \
  X(batch) X(m) X(n) X(k) X(transA) X(transB) X(offA) X(strideA) X(offB) X(strideB) X(offBias) X(act) X(alpha) X(offC)
/** reluGrad: dx = dy · [x > 0] over n values. */
#define SCAAT_RELU_GRAD_PARAMS(X) X(n) X(offDy) X(offX) X(offDx)
/** Every batchNorm block starts so: the op, x viewed as [rows, c], ε. */
#define SCAAT_BATCH_NORM_HEAD(X) X(op) X(rows) X(c) X(eps)
/** batchNorm forward: y from x and given statistics (scale, offset may be -1: 1 and 0). */
#define SCAAT_BATCH_NORM_FORWARD_PARAMS(X) \
  SCAAT_BATCH_NORM_HEAD(X) X(offX) X(offMean) X(offVar) X(offScale) X(offOffset) X(offY)
/** batchNorm backward: the gradient w.r.t. x, mean, var, scale, offset (scale may be -1). */
#define SCAAT_BATCH_NORM_BACKWARD_PARAMS(X)                                                          \
  SCAAT_BATCH_NORM_HEAD(X) X(offX) X(offDy) X(offMean) X(offVar) X(offScale) X(offDx) X(offDmean) \
  X(offDvar) X(offDscale) X(offDoffset)
/** batchNorm trainingForward: y and the batch statistics mean, var (scale, offset may be -1). */
#define SCAAT_BATCH_NORM_TRAINING_FORWARD_PARAMS(X) \
  SCAAT_BATCH_NORM_HEAD(X) X(offX) X(offScale) X(offOffset) X(offY) X(offMean) X(offVar)
/** batchNorm trainingBackward: dx, dscale, doffset through the statistics (scale, dmean, dvar may be -1). */
#define SCAAT_BATCH_NORM_TRAINING_BACKWARD_PARAMS(X)                                                  \
  SCAAT_BATCH_NORM_HEAD(X) X(offX) X(offDy) X(offMean) X(offVar) X(offScale) X(offDmean) X(offDvar) \
  X(offDx) X(offDscale) X(offDoffset)
/** elementwise: out [n] = a op b as the broadcast says; m divides n (m = n when same). */
#define SCAAT_ELEMENTWISE_PARAMS(X) X(op) X(broadcast) X(n) X(m) X(offA) X(offB) X(offOut)
/** relu: y = max(x, 0) over n values. */
#define SCAAT_RELU_PARAMS(X) X(n) X(offX) X(offY)
/** maxPool2d: y [n, oh, ow, c] from x [n, h, w, c]. */
#define SCAAT_MAX_POOL2D_PARAMS(X) SCAAT_POOL_GEOMETRY(X) X(offX) X(offY)
/** channelSum: out [c] = Σ over rows of x [rows, c], ÷ rows when mean is 1. */
#define SCAAT_CHANNEL_SUM_PARAMS(X) X(rows) X(c) X(mean) X(offX) X(offOut)

#define SCAAT_OP_CODE_ENUMERATOR(name) name,
#define SCAAT_OP_CODE_PLUS_ONE(name) +1

namespace scaat {

/** How many codes the mode E has (its codes are 0 … modeCount<E> − 1). */
template <class E>
constexpr int modeCount = 0;

#define SCAAT_DEFINE_MODE(Type, LIST)                 \
  enum class Type : int { LIST(SCAAT_OP_CODE_ENUMERATOR) }; \
  template <>                                         \
  constexpr int modeCount<Type> = 0 LIST(SCAAT_OP_CODE_PLUS_ONE);

SCAAT_DEFINE_MODE(Act, SCAAT_ACT)
SCAAT_DEFINE_MODE(ConvOp, SCAAT_CONV_OP)
SCAAT_DEFINE_MODE(BatchNormOp, SCAAT_BATCH_NORM_OP)
SCAAT_DEFINE_MODE(BinaryOp, SCAAT_BINARY_OP)
SCAAT_DEFINE_MODE(Broadcast, SCAAT_BROADCAST)
#undef SCAAT_DEFINE_MODE

/** Whether `code` is one of the mode E's codes. */
template <class E>
constexpr bool isModeCode(long long code) {
  return code >= 0 && code < modeCount<E>;
}

#define SCAAT_DEFINE_PARAMS(Type, LIST) \
  struct Type {                         \
    enum : std::size_t { LIST(SCAAT_OP_CODE_ENUMERATOR) length }; \
  };

SCAAT_DEFINE_PARAMS(Conv2dParams, SCAAT_CONV2D_PARAMS)
SCAAT_DEFINE_PARAMS(MaxPool2dGradParams, SCAAT_MAX_POOL2D_GRAD_PARAMS)
SCAAT_DEFINE_PARAMS(MatmulParams, SCAAT_MATMUL_PARAMS)
SCAAT_DEFINE_PARAMS(ReluGradParams, SCAAT_RELU_GRAD_PARAMS)
SCAAT_DEFINE_PARAMS(BatchNormForwardParams, SCAAT_BATCH_NORM_FORWARD_PARAMS)
SCAAT_DEFINE_PARAMS(BatchNormBackwardParams, SCAAT_BATCH_NORM_BACKWARD_PARAMS)
SCAAT_DEFINE_PARAMS(BatchNormTrainingForwardParams, SCAAT_BATCH_NORM_TRAINING_FORWARD_PARAMS)
SCAAT_DEFINE_PARAMS(BatchNormTrainingBackwardParams, SCAAT_BATCH_NORM_TRAINING_BACKWARD_PARAMS)
SCAAT_DEFINE_PARAMS(ElementwiseParams, SCAAT_ELEMENTWISE_PARAMS)
SCAAT_DEFINE_PARAMS(ReluParams, SCAAT_RELU_PARAMS)
SCAAT_DEFINE_PARAMS(MaxPool2dParams, SCAAT_MAX_POOL2D_PARAMS)
SCAAT_DEFINE_PARAMS(ChannelSumParams, SCAAT_CHANNEL_SUM_PARAMS)
#undef SCAAT_DEFINE_PARAMS

}  // namespace scaat
