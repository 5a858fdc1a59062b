// N-API glue of scaat's native accelerator (plain C Node-API, no node-addon-api).
//
// Every kernel entry takes (heap: ArrayBuffer, params: Float64Array): `heap` is the TF.js wasm
// backend's memory and `params` holds the geometry and the *byte offsets* of the operands in it,
// so kernels read and write tensors in place (zero-copy). Offsets and sizes are bounds-checked
// against the heap before any access: a bad call throws a JS error, it never touches memory
// outside the heap. Every mode and parameter slot has a name in op_codes.h, the same as in the
// TypeScript side (src/engine/native/op-codes.ts, which assembles the calls in kernels.ts and
// elementwise.ts); `opCodes()` exports that table for the test that checks the two sides agree.
// Calls are synchronous and serialised (one kernel at a time per process).
#include <node_api.h>
#include <pthread.h>

#include <algorithm>
#include <csignal>
#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <mutex>
#include <string>
#include <utility>

#include "bn_train.h"
#include "elementwise.h"
#include "omp_kernels.h"
#include "onednn_kernels.h"
#include "op_codes.h"
#include "pooling.h"

namespace {

using scaat::Act;
using scaat::BatchNormBackwardParams;
using scaat::BatchNormForwardParams;
using scaat::BatchNormOp;
using scaat::BatchNormTrainingBackwardParams;
using scaat::BatchNormTrainingForwardParams;
using scaat::BinaryOp;
using scaat::Broadcast;
using scaat::ChannelSumParams;
using scaat::Conv2dParams;
using scaat::ConvOp;
using scaat::ElementwiseParams;
using scaat::isModeCode;
using scaat::MatmulParams;
using scaat::MaxPool2dGradParams;
using scaat::MaxPool2dParams;
using scaat::ReluGradParams;
using scaat::ReluParams;

struct CallError {
  std::string msg;
};

#define NAPI_OK(call)                                        \
  do {                                                       \
    if ((call) != napi_ok) throw CallError{"N-API: " #call}; \
  } while (0)

/** The heap and params of a kernel call. */
struct Call {
  uint8_t* heap = nullptr;
  size_t heapBytes = 0;
  const double* p = nullptr;
  size_t np = 0;

  Call(napi_env env, napi_callback_info info, size_t minParams) {
    size_t argc = 2;
    napi_value argv[2];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
    if (argc < 2) throw CallError{"expected (heap: ArrayBuffer, params: Float64Array)"};
    bool isAb = false;
    NAPI_OK(napi_is_arraybuffer(env, argv[0], &isAb));
    if (!isAb) throw CallError{"heap must be an ArrayBuffer"};
    void* data = nullptr;
    NAPI_OK(napi_get_arraybuffer_info(env, argv[0], &data, &heapBytes));
    heap = static_cast<uint8_t*>(data);
    bool isTa = false;
    NAPI_OK(napi_is_typedarray(env, argv[1], &isTa));
    if (!isTa) throw CallError{"params must be a Float64Array"};
    napi_typedarray_type type;
    void* pdata = nullptr;
    NAPI_OK(napi_get_typedarray_info(env, argv[1], &type, &np, &pdata, nullptr, nullptr));
    if (type != napi_float64_array) throw CallError{"params must be a Float64Array"};
    if (np < minParams) throw CallError{"params: expected " + std::to_string(minParams) + " values"};
    p = static_cast<const double*>(pdata);
  }

  int64_t i(size_t k) const {
    const double v = p[k];
    if (!(std::fabs(v) <= 9007199254740991.0) || v != std::trunc(v)) {
      throw CallError{"params[" + std::to_string(k) + "] is not an integer"};
    }
    return static_cast<int64_t>(v);
  }
  int64_t dim(size_t k) const {
    const int64_t v = i(k);
    if (v < 1) throw CallError{"params[" + std::to_string(k) + "]: expected a size >= 1"};
    return v;
  }
  /** A float32 operand of `count` values at the byte offset in params[k]; null when the offset is -1 and optional. */
  float* f32(size_t k, int64_t count, bool optional = false) const {
    const int64_t off = i(k);
    if (off == -1 && optional) return nullptr;
    if (off < 0 || off % 4 != 0) throw CallError{"operand offset " + std::to_string(off) + " is not a float32 offset"};
    if (count < 0 || static_cast<uint64_t>(count) > heapBytes / 4 ||
        static_cast<uint64_t>(off) + static_cast<uint64_t>(count) * 4 > heapBytes) {
      throw CallError{"operand of " + std::to_string(count) + " floats at byte " + std::to_string(off) +
                      " lies outside the heap of " + std::to_string(heapBytes) + " bytes"};
    }
    return reinterpret_cast<float*>(heap + off);
  }
};

/** a · b · …, or a CallError when the product overflows int64 (sizes are checked before use). */
int64_t prod(std::initializer_list<int64_t> xs) {
  int64_t r = 1;
  for (const int64_t x : xs) {
    if (__builtin_mul_overflow(r, x, &r)) throw CallError{"operand size overflows"};
  }
  return r;
}

/** a + b, or a CallError on overflow. */
int64_t sum(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw CallError{"operand size overflows"};
  return r;
}

/** The pooling geometry (SCAAT_POOL_GEOMETRY) of a block P that starts with it. */
template <class P>
scaat::PoolShape poolShape(const Call& c, const char* what) {
  const scaat::PoolShape s{c.dim(P::n),  c.dim(P::h),  c.dim(P::w),  c.dim(P::c),  c.dim(P::oh), c.dim(P::ow),
                           c.dim(P::kh), c.dim(P::kw), c.dim(P::sh), c.dim(P::sw), c.i(P::pt),   c.i(P::pl)};
  if (s.pt < 0 || s.pl < 0) throw CallError{std::string(what) + ": negative padding"};
  return s;
}

Act actOf(int64_t a) {
  if (!isModeCode<Act>(a)) throw CallError{"unknown activation code " + std::to_string(a)};
  return static_cast<Act>(a);
}

/**
 * Serialises kernel calls: the kernels share primitive caches and scratch buffers, and Node may
 * load the addon in several worker threads (each with its own TF.js) at once.
 */
std::mutex callMutex;

/**
 * Holds off the asynchronous signals on the calling thread for the length of a kernel call; those
 * that arrive meanwhile are delivered when it returns. Why: a signal handler that runs on a thread
 * inside oneDNN 2.6's JIT sgemm (the matmul kernel, AVX2 and up) corrupts the heap — measured: a
 * storm of SIGUSR2 with a JS handler, or `node --cpu-prof`'s SIGPROF, during matmuls ended in
 * glibc's "corrupted size vs. prev_size" within a few calls; with the JIT limited to SSE4.1 it did
 * not (test/integration/native-signals.test.ts). Ctrl-C (which scaat handles to checkpoint), a
 * terminal resize or a profiler would otherwise hit it. The OpenMP threads are created inside the
 * first kernel call and inherit this mask, so no signal is delivered to them either. The
 * synchronous fault signals stay unblocked (a fault must still stop the process).
 */
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t all;
    sigfillset(&all);
    for (const int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&all, s);
    held_ = pthread_sigmask(SIG_BLOCK, &all, &before_) == 0;
  }
  ~SignalsHeld() {
    if (held_) pthread_sigmask(SIG_SETMASK, &before_, nullptr);
  }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t before_;
  bool held_ = false;
};

template <class F>
napi_value guarded(napi_env env, F&& f) {
  try {
    const SignalsHeld signals;
    const std::lock_guard<std::mutex> lock(callMutex);
    return f();
  } catch (const CallError& e) {
    napi_throw_error(env, "SCAAT_NATIVE", e.msg.c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, "SCAAT_NATIVE", e.what());
  } catch (...) {
    napi_throw_error(env, "SCAAT_NATIVE", "unknown native error");
  }
  return nullptr;
}

napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// conv2d: Conv2dParams (op_codes.h).
napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    using P = Conv2dParams;
    const Call c(env, info, P::length);
    const int64_t op = c.i(P::op);
    scaat::ConvShape s{c.dim(P::n),  c.dim(P::h),  c.dim(P::w),  c.dim(P::c),  c.dim(P::oc), c.dim(P::kh),
                       c.dim(P::kw), c.dim(P::oh), c.dim(P::ow), c.dim(P::sh), c.dim(P::sw), c.dim(P::dh),
                       c.dim(P::dw), c.i(P::pt),   c.i(P::pl),   c.i(P::pb),   c.i(P::pr)};
    const int64_t xs = prod({s.n, s.h, s.w, s.c}), ws = prod({s.kh, s.kw, s.c, s.oc}), ys = prod({s.n, s.oh, s.ow, s.oc});
    const Act act = actOf(c.i(P::act));
    const float alpha = static_cast<float>(c.p[P::alpha]);
    if (!isModeCode<ConvOp>(op)) throw CallError{"conv2d: unknown op " + std::to_string(op)};
    switch (static_cast<ConvOp>(op)) {
      case ConvOp::forward:
        scaat::conv2dForward(s, c.f32(P::off0, xs), c.f32(P::off1, ws), c.f32(P::offBias, s.oc, true), act, alpha,
                             c.f32(P::offOut, ys));
        break;
      case ConvOp::backwardData:
        scaat::conv2dBackwardData(s, c.f32(P::off0, ys), c.f32(P::off1, ws), c.f32(P::offOut, xs));
        break;
      case ConvOp::backwardWeights:
        scaat::conv2dBackwardWeights(s, c.f32(P::off0, xs), c.f32(P::off1, ys), c.f32(P::offOut, ws));
        break;
    }
    return undefinedValue(env);
  });
}

// maxPool2dGrad: MaxPool2dGradParams.
napi_value MaxPool2dGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    using P = MaxPool2dGradParams;
    const Call c(env, info, P::length);
    const scaat::PoolShape s = poolShape<P>(c, "maxPool2dGrad");
    const int64_t xs = prod({s.n, s.h, s.w, s.c}), ys = prod({s.n, s.oh, s.ow, s.c});
    scaat::maxPool2dBackward(s, c.f32(P::offX, xs), c.f32(P::offDy, ys), c.f32(P::offDx, xs));
    return undefinedValue(env);
  });
}

// matmul: MatmulParams.
napi_value Matmul(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    using P = MatmulParams;
    const Call c(env, info, P::length);
    const int64_t batch = c.dim(P::batch), m = c.dim(P::m), n = c.dim(P::n), k = c.dim(P::k);
    const int64_t strideA = c.i(P::strideA), strideB = c.i(P::strideB);
    if (strideA < 0 || strideB < 0) throw CallError{"matmul: negative batch stride"};
    const float* a = c.f32(P::offA, sum(prod({batch - 1, strideA}), prod({m, k})));
    const float* b = c.f32(P::offB, sum(prod({batch - 1, strideB}), prod({k, n})));
    const float* bias = c.f32(P::offBias, n, true);
    scaat::matmul(batch, m, n, k, c.i(P::transA) != 0, c.i(P::transB) != 0, a, strideA, b, strideB, bias,
                  actOf(c.i(P::act)), static_cast<float>(c.p[P::alpha]), c.f32(P::offC, prod({batch, m, n})));
    return undefinedValue(env);
  });
}

// reluGrad: ReluGradParams.
napi_value ReluGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    using P = ReluGradParams;
    const Call c(env, info, P::length);
    const int64_t n = c.dim(P::n);
    scaat::reluGrad(c.f32(P::offDy, n), c.f32(P::offX, n), n, c.f32(P::offDx, n));
    return undefinedValue(env);
  });
}

// The shortest batchNorm block: every call has at least this many params.
constexpr size_t kBatchNormMinParams =
    std::min<size_t>({BatchNormForwardParams::length, BatchNormBackwardParams::length,
                      BatchNormTrainingForwardParams::length, BatchNormTrainingBackwardParams::length});

/** Throws unless the call has the whole block P (batchNorm's blocks differ in length by op). */
template <class P>
void needBlock(const Call& c, const char* what) {
  if (c.np < P::length) throw CallError{std::string(what) + ": expected " + std::to_string(P::length) + " params"};
}

// batchNorm: the BatchNorm*Params block of its op (x, y, dy, dx [rows, c]; the rest [c]).
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    // The head (op, rows, c, eps) is the same in every block (SCAAT_BATCH_NORM_HEAD).
    using H = BatchNormForwardParams;
    const Call c(env, info, kBatchNormMinParams);
    const int64_t op = c.i(H::op), rows = c.dim(H::rows), ch = c.dim(H::c), n = prod({rows, ch});
    const float eps = static_cast<float>(c.p[H::eps]);
    if (!isModeCode<BatchNormOp>(op)) throw CallError{"batchNorm: unknown op " + std::to_string(op)};
    switch (static_cast<BatchNormOp>(op)) {
      case BatchNormOp::forward: {
        using P = BatchNormForwardParams;
        needBlock<P>(c, "batchNorm forward");
        scaat::batchNormForward(c.f32(P::offX, n), rows, ch, c.f32(P::offMean, ch), c.f32(P::offVar, ch),
                                c.f32(P::offScale, ch, true), c.f32(P::offOffset, ch, true), eps, c.f32(P::offY, n));
        break;
      }
      case BatchNormOp::backward: {
        using P = BatchNormBackwardParams;
        needBlock<P>(c, "batchNorm backward");
        scaat::batchNormBackward(c.f32(P::offX, n), c.f32(P::offDy, n), rows, ch, c.f32(P::offMean, ch),
                                 c.f32(P::offVar, ch), c.f32(P::offScale, ch, true), eps, c.f32(P::offDx, n),
                                 c.f32(P::offDmean, ch), c.f32(P::offDvar, ch), c.f32(P::offDscale, ch),
                                 c.f32(P::offDoffset, ch));
        break;
      }
      case BatchNormOp::trainingForward: {
        using P = BatchNormTrainingForwardParams;
        needBlock<P>(c, "batchNorm training forward");
        scaat::batchNormTrainForward(c.f32(P::offX, n), rows, ch, c.f32(P::offScale, ch, true),
                                     c.f32(P::offOffset, ch, true), eps, c.f32(P::offY, n), c.f32(P::offMean, ch),
                                     c.f32(P::offVar, ch));
        break;
      }
      case BatchNormOp::trainingBackward: {
        using P = BatchNormTrainingBackwardParams;
        needBlock<P>(c, "batchNorm training backward");
        scaat::batchNormTrainBackward(c.f32(P::offX, n), c.f32(P::offDy, n), rows, ch, c.f32(P::offMean, ch),
                                      c.f32(P::offVar, ch), c.f32(P::offScale, ch, true), c.f32(P::offDmean, ch, true),
                                      c.f32(P::offDvar, ch, true), eps, c.f32(P::offDx, n), c.f32(P::offDscale, ch),
                                      c.f32(P::offDoffset, ch));
        break;
      }
    }
    return undefinedValue(env);
  });
}

// ---- Glue kernels between the convolutions (elementwise.h, pooling.h) ------------------------

// elementwise: ElementwiseParams; op a BinaryOp, broadcast a Broadcast.
napi_value Elementwise(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    using P = ElementwiseParams;
    const Call c(env, info, P::length);
    const int64_t op = c.i(P::op), broadcast = c.i(P::broadcast), n = c.dim(P::n), m = c.dim(P::m);
    if (!isModeCode<BinaryOp>(op)) throw CallError{"elementwise: unknown op " + std::to_string(op)};
    if (!isModeCode<Broadcast>(broadcast)) {
      throw CallError{"elementwise: unknown broadcast " + std::to_string(broadcast)};
    }
    const Broadcast bc = static_cast<Broadcast>(broadcast);
    if (bc == Broadcast::same ? m != n : n % m != 0) throw CallError{"elementwise: m must divide n"};
    scaat::binary(static_cast<BinaryOp>(op), bc, n, m, c.f32(P::offA, bc == Broadcast::vectorA ? m : n),
                  c.f32(P::offB, bc == Broadcast::vectorB ? m : n), c.f32(P::offOut, n));
    return undefinedValue(env);
  });
}

// relu: ReluParams.
napi_value Relu(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    using P = ReluParams;
    const Call c(env, info, P::length);
    const int64_t n = c.dim(P::n);
    scaat::relu(c.f32(P::offX, n), n, c.f32(P::offY, n));
    return undefinedValue(env);
  });
}

// maxPool2d: MaxPool2dParams.
napi_value MaxPool2d(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    using P = MaxPool2dParams;
    const Call c(env, info, P::length);
    const scaat::PoolShape s = poolShape<P>(c, "maxPool2d");
    scaat::maxPool2dForward(s, c.f32(P::offX, prod({s.n, s.h, s.w, s.c})), c.f32(P::offY, prod({s.n, s.oh, s.ow, s.c})));
    return undefinedValue(env);
  });
}

// channelSum: ChannelSumParams; x [rows, c] → out [c]: Σ over rows (÷ rows when mean ≠ 0).
napi_value ChannelSum(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    using P = ChannelSumParams;
    const Call c(env, info, P::length);
    const int64_t rows = c.dim(P::rows), ch = c.dim(P::c);
    const double scale = c.i(P::mean) != 0 ? 1.0 / static_cast<double>(rows) : 1.0;
    scaat::channelSum(c.f32(P::offX, prod({rows, ch})), rows, ch, scale, c.f32(P::offOut, ch));
    return undefinedValue(env);
  });
}

// ---- End of the glue kernels -------------------------------------------------------------------

// ---- The op-code table (op_codes.h), for src/engine/native/op-codes.test.ts -------------------

/** A JS object {name: value} of `entries`. */
napi_value tableOf(napi_env env, std::initializer_list<std::pair<const char*, int64_t>> entries) {
  napi_value obj;
  NAPI_OK(napi_create_object(env, &obj));
  for (const auto& [name, value] : entries) {
    napi_value v;
    NAPI_OK(napi_create_int64(env, value, &v));
    NAPI_OK(napi_set_named_property(env, obj, name, v));
  }
  return obj;
}

napi_value objectOf(napi_env env, std::initializer_list<std::pair<const char*, napi_value>> entries) {
  napi_value obj;
  NAPI_OK(napi_create_object(env, &obj));
  for (const auto& [name, value] : entries) NAPI_OK(napi_set_named_property(env, obj, name, value));
  return obj;
}

// {name, value} of each entry of an X-macro list, read from the enum the list defined.
#define SCAAT_MODE_ENTRY(name) {#name, static_cast<int64_t>(Mode::name)},
#define SCAAT_SLOT_ENTRY(name) {#name, static_cast<int64_t>(Block::name)},
#define SCAAT_MODE_TABLE(key, Type, LIST) \
  {key, [&] {                             \
     using Mode = scaat::Type;            \
     return tableOf(env, {LIST(SCAAT_MODE_ENTRY)}); \
   }()}
#define SCAAT_PARAMS_TABLE(key, Type, LIST) \
  {key, [&] {                               \
     using Block = scaat::Type;             \
     return tableOf(env, {LIST(SCAAT_SLOT_ENTRY)}); \
   }()}

/**
 * opCodes() → {modes: {act, convOp, batchNormOp, binaryOp, broadcast}: {name: code},
 *              params: {<block>: {slot name: index}}, lengths: {<block>: slots}}
 * Blocks: the kernel's name, batchNorm's by op (batchNormForward, …).
 */
napi_value OpCodes(napi_env env, napi_callback_info) {
  return guarded(env, [&]() {
    const napi_value modes = objectOf(env, {
        SCAAT_MODE_TABLE("act", Act, SCAAT_ACT),
        SCAAT_MODE_TABLE("convOp", ConvOp, SCAAT_CONV_OP),
        SCAAT_MODE_TABLE("batchNormOp", BatchNormOp, SCAAT_BATCH_NORM_OP),
        SCAAT_MODE_TABLE("binaryOp", BinaryOp, SCAAT_BINARY_OP),
        SCAAT_MODE_TABLE("broadcast", Broadcast, SCAAT_BROADCAST),
    });
    const napi_value params = objectOf(env, {
        SCAAT_PARAMS_TABLE("conv2d", Conv2dParams, SCAAT_CONV2D_PARAMS),
        SCAAT_PARAMS_TABLE("maxPool2dGrad", MaxPool2dGradParams, SCAAT_MAX_POOL2D_GRAD_PARAMS),
        SCAAT_PARAMS_TABLE("matmul", MatmulParams, SCAAT_MATMUL_PARAMS),
        SCAAT_PARAMS_TABLE("reluGrad", ReluGradParams, SCAAT_RELU_GRAD_PARAMS),
        SCAAT_PARAMS_TABLE("batchNormForward", BatchNormForwardParams, SCAAT_BATCH_NORM_FORWARD_PARAMS),
        SCAAT_PARAMS_TABLE("batchNormBackward", BatchNormBackwardParams, SCAAT_BATCH_NORM_BACKWARD_PARAMS),
        SCAAT_PARAMS_TABLE("batchNormTrainingForward", BatchNormTrainingForwardParams,
                           SCAAT_BATCH_NORM_TRAINING_FORWARD_PARAMS),
        SCAAT_PARAMS_TABLE("batchNormTrainingBackward", BatchNormTrainingBackwardParams,
                           SCAAT_BATCH_NORM_TRAINING_BACKWARD_PARAMS),
        SCAAT_PARAMS_TABLE("elementwise", ElementwiseParams, SCAAT_ELEMENTWISE_PARAMS),
        SCAAT_PARAMS_TABLE("relu", ReluParams, SCAAT_RELU_PARAMS),
        SCAAT_PARAMS_TABLE("maxPool2d", MaxPool2dParams, SCAAT_MAX_POOL2D_PARAMS),
        SCAAT_PARAMS_TABLE("channelSum", ChannelSumParams, SCAAT_CHANNEL_SUM_PARAMS),
    });
    const napi_value lengths = tableOf(env, {
        {"conv2d", Conv2dParams::length},
        {"maxPool2dGrad", MaxPool2dGradParams::length},
        {"matmul", MatmulParams::length},
        {"reluGrad", ReluGradParams::length},
        {"batchNormForward", BatchNormForwardParams::length},
        {"batchNormBackward", BatchNormBackwardParams::length},
        {"batchNormTrainingForward", BatchNormTrainingForwardParams::length},
        {"batchNormTrainingBackward", BatchNormTrainingBackwardParams::length},
        {"elementwise", ElementwiseParams::length},
        {"relu", ReluParams::length},
        {"maxPool2d", MaxPool2dParams::length},
        {"channelSum", ChannelSumParams::length},
    });
    return objectOf(env, {{"modes", modes}, {"params", params}, {"lengths", lengths}});
  });
}

#undef SCAAT_MODE_ENTRY
#undef SCAAT_SLOT_ENTRY
#undef SCAAT_MODE_TABLE
#undef SCAAT_PARAMS_TABLE

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
    int32_t n = 1;
    if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok) throw CallError{"setThreads(n: number)"};
    scaat::setThreads(n);
    return undefinedValue(env);
  });
}

napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&]() {
    napi_value obj, lib, th;
    NAPI_OK(napi_create_object(env, &obj));
    const std::string d = scaat::describe();
    NAPI_OK(napi_create_string_utf8(env, d.c_str(), d.size(), &lib));
    NAPI_OK(napi_create_int32(env, scaat::threads(), &th));
    NAPI_OK(napi_set_named_property(env, obj, "library", lib));
    NAPI_OK(napi_set_named_property(env, obj, "threads", th));
    return obj;
  });
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool2dGrad", nullptr, MaxPool2dGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, Matmul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reluGrad", nullptr, ReluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"elementwise", nullptr, Elementwise, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"relu", nullptr, Relu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool2d", nullptr, MaxPool2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"channelSum", nullptr, ChannelSum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"opCodes", nullptr, OpCodes, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
