// N-API glue of scaat's native accelerator (plain C Node-API, no node-addon-api).
//
// Every kernel entry takes (heap: ArrayBuffer, params: Float64Array): `heap` is the TF.js wasm
// backend's memory and `params` holds the geometry and the *byte offsets* of the operands in it,
// so kernels read and write tensors in place (zero-copy). Offsets and sizes are bounds-checked
// against the heap before any access: a bad call throws a JS error, it never touches memory
// outside the heap. The TypeScript side is src/engine/native/_addon.ts; the parameter layouts
// below must match it. Calls are synchronous and serialised (one kernel at a time per process).
#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <mutex>
#include <string>

#include "bn_train.h"
#include "elementwise.h"
#include "omp_kernels.h"
#include "onednn_kernels.h"
#include "pooling.h"

namespace {

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

/** The pooling geometry [n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl] at params[0..11]. */
scaat::PoolShape poolShape(const Call& c, const char* what) {
  const scaat::PoolShape s{c.dim(0), c.dim(1), c.dim(2), c.dim(3), c.dim(4), c.dim(5),
                           c.dim(6), c.dim(7), c.dim(8), c.dim(9), c.i(10), c.i(11)};
  if (s.pt < 0 || s.pl < 0) throw CallError{std::string(what) + ": negative padding"};
  return s;
}

scaat::Act actOf(int64_t a) {
  if (a < 0 || a > 5) throw CallError{"unknown activation code " + std::to_string(a)};
  return static_cast<scaat::Act>(a);
}

/**
 * Serialises kernel calls: the kernels share primitive caches and scratch buffers, and Node may
 * load the addon in several worker threads (each with its own TF.js) at once.
 */
std::mutex callMutex;

template <class F>
napi_value guarded(napi_env env, F&& f) {
  try {
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

// conv2d params: [op, n, h, w, c, oc, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr, act, alpha,
//                 off0, off1, offBias, offOut]
//   op 0 forward:          off0 = x,  off1 = w,  offBias = bias or -1, offOut = y
//   op 1 backward data:    off0 = dy, off1 = w,                         offOut = dx
//   op 2 backward weights: off0 = x,  off1 = dy,                        offOut = dw
napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    const Call c(env, info, 24);
    const int64_t op = c.i(0);
    scaat::ConvShape s{c.dim(1), c.dim(2), c.dim(3), c.dim(4), c.dim(5), c.dim(6), c.dim(7), c.dim(8), c.dim(9),
                       c.dim(10), c.dim(11), c.dim(12), c.dim(13), c.i(14), c.i(15), c.i(16), c.i(17)};
    const int64_t xs = prod({s.n, s.h, s.w, s.c}), ws = prod({s.kh, s.kw, s.c, s.oc}), ys = prod({s.n, s.oh, s.ow, s.oc});
    const scaat::Act act = actOf(c.i(18));
    const float alpha = static_cast<float>(c.p[19]);
    switch (op) {
      case 0:
        scaat::conv2dForward(s, c.f32(20, xs), c.f32(21, ws), c.f32(22, s.oc, true), act, alpha, c.f32(23, ys));
        break;
      case 1: scaat::conv2dBackwardData(s, c.f32(20, ys), c.f32(21, ws), c.f32(23, xs)); break;
      case 2: scaat::conv2dBackwardWeights(s, c.f32(20, xs), c.f32(21, ys), c.f32(23, ws)); break;
      default: throw CallError{"conv2d: unknown op " + std::to_string(op)};
    }
    return undefinedValue(env);
  });
}

// maxPool2dGrad params: [n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl, offX, offDy, offDx]
napi_value MaxPool2dGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    const Call c(env, info, 15);
    const scaat::PoolShape s = poolShape(c, "maxPool2dGrad");
    const int64_t xs = prod({s.n, s.h, s.w, s.c}), ys = prod({s.n, s.oh, s.ow, s.c});
    scaat::maxPool2dBackward(s, c.f32(12, xs), c.f32(13, ys), c.f32(14, xs));
    return undefinedValue(env);
  });
}

// matmul params: [batch, m, n, k, transA, transB, offA, strideA, offB, strideB, offBias, act, alpha, offC]
//   strides in elements between consecutive batch matrices (0 broadcasts one matrix)
napi_value Matmul(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    const Call c(env, info, 14);
    const int64_t batch = c.dim(0), m = c.dim(1), n = c.dim(2), k = c.dim(3);
    const int64_t strideA = c.i(7), strideB = c.i(9);
    if (strideA < 0 || strideB < 0) throw CallError{"matmul: negative batch stride"};
    const float* a = c.f32(6, sum(prod({batch - 1, strideA}), prod({m, k})));
    const float* b = c.f32(8, sum(prod({batch - 1, strideB}), prod({k, n})));
    const float* bias = c.f32(10, n, true);
    scaat::matmul(batch, m, n, k, c.i(4) != 0, c.i(5) != 0, a, strideA, b, strideB, bias, actOf(c.i(11)),
                  static_cast<float>(c.p[12]), c.f32(13, prod({batch, m, n})));
    return undefinedValue(env);
  });
}

// reluGrad params: [n, offDy, offX, offDx]
napi_value ReluGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    const Call c(env, info, 4);
    const int64_t n = c.dim(0);
    scaat::reluGrad(c.f32(1, n), c.f32(2, n), n, c.f32(3, n));
    return undefinedValue(env);
  });
}

// batchNorm params (x, y, dy, dx [rows, c]; the rest [c]; optional ones -1 when absent):
//   op 0 forward:  [0, rows, c, eps, offX, offMean, offVar, offScale, offOffset, offY]
//   op 1 backward: [1, rows, c, eps, offX, offDy, offMean, offVar, offScale, offDx, offDmean, offDvar,
//                   offDscale, offDoffset]
//   op 2 training forward (batch statistics): [2, rows, c, eps, offX, offScale, offOffset, offY, offMean, offVar]
//   op 3 training backward: [3, rows, c, eps, offX, offDy, offMean, offVar, offScale, offDmean, offDvar, offDx,
//                            offDscale, offDoffset]
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    const Call c(env, info, 10);
    const int64_t op = c.i(0), rows = c.dim(1), ch = c.dim(2), n = prod({rows, ch});
    const float eps = static_cast<float>(c.p[3]);
    if (op == 0) {
      scaat::batchNormForward(c.f32(4, n), rows, ch, c.f32(5, ch), c.f32(6, ch), c.f32(7, ch, true), c.f32(8, ch, true),
                              eps, c.f32(9, n));
    } else if (op == 1) {
      if (c.np < 14) throw CallError{"batchNorm backward: expected 14 params"};
      scaat::batchNormBackward(c.f32(4, n), c.f32(5, n), rows, ch, c.f32(6, ch), c.f32(7, ch), c.f32(8, ch, true), eps,
                               c.f32(9, n), c.f32(10, ch), c.f32(11, ch), c.f32(12, ch), c.f32(13, ch));
    } else if (op == 2) {
      scaat::batchNormTrainForward(c.f32(4, n), rows, ch, c.f32(5, ch, true), c.f32(6, ch, true), eps, c.f32(7, n),
                                   c.f32(8, ch), c.f32(9, ch));
    } else if (op == 3) {
      if (c.np < 14) throw CallError{"batchNorm training backward: expected 14 params"};
      scaat::batchNormTrainBackward(c.f32(4, n), c.f32(5, n), rows, ch, c.f32(6, ch), c.f32(7, ch), c.f32(8, ch, true),
                                    c.f32(9, ch, true), c.f32(10, ch, true), eps, c.f32(11, n), c.f32(12, ch),
                                    c.f32(13, ch));
    } else {
      throw CallError{"batchNorm: unknown op " + std::to_string(op)};
    }
    return undefinedValue(env);
  });
}

// ---- Glue kernels between the convolutions (elementwise.h, pooling.h) ------------------------

// elementwise params: [op, broadcast, n, m, offA, offB, offOut]   op 0 add, 1 sub, 2 mul;
//   broadcast 0: a, b [n];  1: a [n], b [m] (b[i mod m]);  2: a [m], b [n];  m divides n
napi_value Elementwise(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    const Call c(env, info, 7);
    const int64_t op = c.i(0), broadcast = c.i(1), n = c.dim(2), m = c.dim(3);
    if (op < 0 || op > 2) throw CallError{"elementwise: unknown op " + std::to_string(op)};
    if (broadcast < 0 || broadcast > 2) throw CallError{"elementwise: unknown broadcast " + std::to_string(broadcast)};
    if (broadcast == 0 ? m != n : n % m != 0) throw CallError{"elementwise: m must divide n"};
    scaat::binary(static_cast<scaat::BinaryOp>(op), static_cast<int>(broadcast), n, m,
                  c.f32(4, broadcast == 2 ? m : n), c.f32(5, broadcast == 1 ? m : n), c.f32(6, n));
    return undefinedValue(env);
  });
}

// relu params: [n, offX, offY]
napi_value Relu(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    const Call c(env, info, 3);
    const int64_t n = c.dim(0);
    scaat::relu(c.f32(1, n), n, c.f32(2, n));
    return undefinedValue(env);
  });
}

// maxPool2d params: [n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl, offX, offY]
napi_value MaxPool2d(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    const Call c(env, info, 14);
    const scaat::PoolShape s = poolShape(c, "maxPool2d");
    scaat::maxPool2dForward(s, c.f32(12, prod({s.n, s.h, s.w, s.c})), c.f32(13, prod({s.n, s.oh, s.ow, s.c})));
    return undefinedValue(env);
  });
}

// channelSum params: [rows, c, mean, offX, offOut]   x [rows, c] → out [c]: Σ over rows (÷ rows when mean = 1)
napi_value ChannelSum(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    const Call c(env, info, 5);
    const int64_t rows = c.dim(0), ch = c.dim(1);
    const double scale = c.i(2) != 0 ? 1.0 / static_cast<double>(rows) : 1.0;
    scaat::channelSum(c.f32(3, prod({rows, ch})), rows, ch, scale, c.f32(4, ch));
    return undefinedValue(env);
  });
}

// ---- End of the glue kernels -------------------------------------------------------------------

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
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
