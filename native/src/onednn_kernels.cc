// scaat native kernels on oneDNN (https://github.com/oneapi-src/oneDNN), the library PyTorch uses
// for its CPU convolutions.
//
// Layouts: oneDNN's AVX2 direct convolution kernels (jit:avx2, jit_1x1:avx2) take the activations
// in plain NHWC when the weights are in a blocked layout, which is how PyTorch runs channels-last
// convolutions, so each call reorders only the (small) weights and reads and writes the caller's
// NHWC buffers in place. Where oneDNN has no direct kernel for NHWC (it would pick its gemm
// fallback, 2–3× slower), activations are reordered to and from the blocked nChw8c as well.
// Measured on the 2-core AVX2 machine of issue #8 (batch 128, `npx tsx bench/suites/kernels.ts`,
// 2026-11-25): the NHWC path saves 10–40 % per convolution against all-blocked (ResNet-20 stage 1
// 3×3 forward 5.4 → 4.6 ms, ∂x 4.6 → 3.5, ∂w 5.4 → 4.5; 1×1 stride-2 shortcut forward 1.2 → 0.6).
// SCAAT_CONV_LAYOUT=blocked forces the old all-blocked path (for comparison).
//
// Primitives are built once per shape (and thread count) and cached; blocked temporaries live in
// three grow-only buffers reused by every call (addon.cc serialises calls).
//
// Max pooling is not on oneDNN: its forward lost to XNNPACK's (batch 128, 16×16×64, 2×2: 9 vs
// 1.4 ms, 2026-11-25) and its backward must first recompute the forward for an argmax workspace;
// both are plain OpenMP loops in pooling.cc / omp_kernels.cc.
#include "onednn_kernels.h"

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace scaat {
namespace {

using dnnl::algorithm;
using dnnl::engine;
using dnnl::memory;
using dnnl::primitive;
using dnnl::prop_kind;
using dnnl::stream;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Runtime {
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};
};

Runtime& rt() {
  static Runtime r;
  return r;
}

/** A grow-only, 64-byte aligned scratch buffer. */
class Arena {
 public:
  ~Arena() { std::free(p_); }
  void* get(size_t bytes) {
    if (bytes > cap_) {
      std::free(p_);
      cap_ = (bytes + 4095) & ~size_t{4095};
      p_ = std::aligned_alloc(64, cap_);
      if (p_ == nullptr) {
        cap_ = 0;
        throw std::bad_alloc();
      }
    }
    return p_;
  }

 private:
  void* p_ = nullptr;
  size_t cap_ = 0;
};

/** Scratch slots: 0 and 1 for the two inputs of a call, 2 for its output. */
Arena& arena(int slot) {
  static Arena slots[3];
  return slots[slot];
}

/**
 * A user buffer in `user` layout seen as `want` layout: the same memory when the layouts agree,
 * else a reorder (built once) into arena `slot`.
 */
struct Staged {
  memory::desc user, want;
  std::unique_ptr<primitive> reorder;  // null when user == want

  Staged() = default;
  Staged(const memory::desc& u, const memory::desc& w, bool toUser) : user(u), want(w) {
    if (u != w) {
      auto& e = rt().eng;
      const auto pd = toUser ? dnnl::reorder::primitive_desc(e, w, e, u) : dnnl::reorder::primitive_desc(e, u, e, w);
      reorder = std::make_unique<dnnl::reorder>(pd);
    }
  }

  /** Memory for an input: reorders `ptr` into the arena when needed. */
  memory in(const float* ptr, int slot) const {
    auto& r = rt();
    memory u(user, r.eng, const_cast<float*>(ptr));
    if (!reorder) return u;
    memory m(want, r.eng, arena(slot).get(want.get_size()));
    reorder->execute(r.strm, {{DNNL_ARG_FROM, u}, {DNNL_ARG_TO, m}});
    return m;
  }
  /** Memory for an output: the user buffer itself, or an arena buffer to `finish` into it. */
  memory out(float* ptr, int slot) const {
    auto& r = rt();
    if (!reorder) return memory(user, r.eng, ptr);
    return memory(want, r.eng, arena(slot).get(want.get_size()));
  }
  void finish(const memory& m, float* ptr) const {
    if (!reorder) return;
    auto& r = rt();
    memory u(user, r.eng, ptr);
    reorder->execute(r.strm, {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, u}});
  }
};

memory::desc md(const memory::dims& d, tag t) { return memory::desc(d, dt::f32, t); }

// oneDNN wants padding_r >= 0. A negative one (TF 'valid' with a stride that leaves the last rows
// or columns unread) becomes a smaller view of the same NHWC buffer: the rows no output reads are
// cut off, and the gradient w.r.t. them is zero.
memory::dims viewDims(int64_t n, int64_t h, int64_t w, int64_t c, int64_t pb, int64_t pr) {
  return {n, c, h + std::min<int64_t>(pb, 0), w + std::min<int64_t>(pr, 0)};
}
memory::desc nhwcView(int64_t n, int64_t h, int64_t w, int64_t c, int64_t pb, int64_t pr) {
  return memory::desc(viewDims(n, h, w, c, pb, pr), dt::f32, memory::dims{h * w * c, 1, w * c, c});
}

algorithm eltwiseOf(Act act, float alpha, float* a, float* b) {
  *a = 0.f;
  *b = 0.f;
  switch (act) {
    case Act::relu: return algorithm::eltwise_relu;
    case Act::leakyrelu: *a = alpha; return algorithm::eltwise_relu;
    case Act::relu6: *b = 6.f; return algorithm::eltwise_clip;
    case Act::elu: *a = 1.f; return algorithm::eltwise_elu;
    case Act::sigmoid: return algorithm::eltwise_logistic;
    case Act::linear: break;
  }
  return algorithm::undef;
}

// ---------------------------------------------------------------------------------------------
// Convolutions

struct ConvPrims {
  std::unique_ptr<primitive> prim;
  Staged s0, s1, out;  // the two inputs and the output, in the op's own order
};

using Key = std::vector<int64_t>;

Key convKey(ConvOp op, const ConvShape& s, bool bias, Act act, float alpha) {
  int32_t alphaBits;
  static_assert(sizeof alphaBits == sizeof alpha);
  std::memcpy(&alphaBits, &alpha, sizeof alpha);
  // The thread count is part of the key: oneDNN fixes a primitive's work split when it is built.
  return {static_cast<int64_t>(op), s.n, s.h, s.w, s.c, s.oc, s.kh, s.kw, s.oh, s.ow, s.sh, s.sw, s.dh, s.dw,
          s.pt, s.pl, s.pb, s.pr, bias ? 1 : 0, static_cast<int64_t>(act), alphaBits, omp_get_max_threads()};
}

constexpr size_t kMaxCached = 512;

template <class V>
V& cached(std::map<Key, std::unique_ptr<V>>& cache, const Key& key, V* (*build)(const Key&, const void*),
          const void* ctx) {
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  if (cache.size() >= kMaxCached) cache.clear();
  return *cache.emplace(key, std::unique_ptr<V>(build(key, ctx))).first->second;
}

struct ConvCtx {
  ConvOp op;
  const ConvShape* s;
  bool bias;
  Act act;
  float alpha;
};

/** Whether oneDNN picked one of its direct JIT kernels (not its gemm or reference fallbacks). */
bool directJit(const char* impl) {
  const std::string i(impl);
  return i.rfind("jit", 0) == 0 && i.find("gemm") == std::string::npos;
}

/**
 * The primitives of one convolution. With `plainActivations`, src/dst (and their gradients) stay in
 * the caller's NHWC and only the weights are blocked (oneDNN's AVX2 direct kernels take NHWC
 * activations with blocked weights, as PyTorch's channels-last convolutions run them): no
 * activation-sized reorders. Returns null when oneDNN has no direct JIT kernel for that (it would
 * fall back to gemm): the caller then builds the all-blocked version.
 */
ConvPrims* buildConvLayout(const ConvCtx& c, bool plainActivations) {
  const auto& s = *c.s;
  auto& e = rt().eng;
  const memory::dims src = viewDims(s.n, s.h, s.w, s.c, s.pb, s.pr), wei{s.oc, s.c, s.kh, s.kw},
                     dst{s.n, s.oc, s.oh, s.ow};
  // Blocked layouts need padding_r >= 0 (a view without the unread rows, see viewDims); the direct
  // kernels on NHWC take the whole input with a negative padding_r, as PyTorch passes it.
  const memory::dims strides{s.sh, s.sw}, dil{s.dh - 1, s.dw - 1}, pl{s.pt, s.pl},
      pr{plainActivations ? s.pb : std::max<int64_t>(s.pb, 0), plainActivations ? s.pr : std::max<int64_t>(s.pr, 0)};
  const auto srcU = plainActivations ? md({s.n, s.c, s.h, s.w}, tag::nhwc) : nhwcView(s.n, s.h, s.w, s.c, s.pb, s.pr);
  const auto weiU = md(wei, tag::hwio), dstU = md(dst, tag::nhwc);
  const auto srcA = plainActivations ? srcU : md(src, tag::any), weiA = md(wei, tag::any),
             dstA = plainActivations ? dstU : md(dst, tag::any);
  const auto biasMd = md({s.oc}, tag::x);
  const auto none = memory::desc();

  dnnl::primitive_attr attr;
  float ea, eb;
  const algorithm ealg = eltwiseOf(c.act, c.alpha, &ea, &eb);
  if (ealg != algorithm::undef) {
    dnnl::post_ops po;
#if DNNL_VERSION_MAJOR >= 3
    po.append_eltwise(ealg, ea, eb);
#else
    po.append_eltwise(1.f, ealg, ea, eb);
#endif
    attr.set_post_ops(po);
  }
  const auto fwdProp = c.op == ConvOp::forward ? prop_kind::forward_inference : prop_kind::forward_training;
#if DNNL_VERSION_MAJOR >= 3
  dnnl::convolution_forward::primitive_desc fpd(e, fwdProp, algorithm::convolution_direct, srcA, weiA,
                                                c.bias ? biasMd : none, dstA, strides, dil, pl, pr, attr);
#else
  dnnl::convolution_forward::primitive_desc fpd(
      dnnl::convolution_forward::desc(fwdProp, algorithm::convolution_direct, srcA, weiA, c.bias ? biasMd : none,
                                      dstA, strides, dil, pl, pr),
      attr, e);
#endif
  auto r = std::make_unique<ConvPrims>();
  switch (c.op) {
    case ConvOp::forward:
      if (plainActivations && !directJit(fpd.impl_info_str())) return nullptr;
      r->prim = std::make_unique<primitive>(dnnl::convolution_forward(fpd));
      r->s0 = Staged(srcU, fpd.src_desc(), false);
      r->s1 = Staged(weiU, fpd.weights_desc(), false);
      r->out = Staged(dstU, fpd.dst_desc(), true);
      break;
    case ConvOp::backwardData: {
#if DNNL_VERSION_MAJOR >= 3
      dnnl::convolution_backward_data::primitive_desc bpd(e, algorithm::convolution_direct, srcA, weiA, dstA, strides,
                                                          dil, pl, pr, fpd);
#else
      dnnl::convolution_backward_data::primitive_desc bpd(
          dnnl::convolution_backward_data::desc(algorithm::convolution_direct, srcA, weiA, dstA, strides, dil, pl, pr),
          e, fpd);
#endif
      if (plainActivations && !directJit(bpd.impl_info_str())) return nullptr;
      r->prim = std::make_unique<primitive>(dnnl::convolution_backward_data(bpd));
      r->s0 = Staged(dstU, bpd.diff_dst_desc(), false);
      r->s1 = Staged(weiU, bpd.weights_desc(), false);
      r->out = Staged(srcU, bpd.diff_src_desc(), true);
      break;
    }
    case ConvOp::backwardWeights: {
#if DNNL_VERSION_MAJOR >= 3
      dnnl::convolution_backward_weights::primitive_desc bpd(e, algorithm::convolution_direct, srcA, weiA, dstA,
                                                             strides, dil, pl, pr, fpd);
#else
      dnnl::convolution_backward_weights::primitive_desc bpd(
          dnnl::convolution_backward_weights::desc(algorithm::convolution_direct, srcA, weiA, dstA, strides, dil, pl,
                                                   pr),
          e, fpd);
#endif
      if (plainActivations && !directJit(bpd.impl_info_str())) return nullptr;
      r->prim = std::make_unique<primitive>(dnnl::convolution_backward_weights(bpd));
      r->s0 = Staged(srcU, bpd.src_desc(), false);
      r->s1 = Staged(dstU, bpd.diff_dst_desc(), false);
      r->out = Staged(weiU, bpd.diff_weights_desc(), true);
      break;
    }
  }
  return r.release();
}

/** SCAAT_CONV_LAYOUT=blocked: every convolution on blocked activations (the pre-NHWC path, for comparison). */
bool forceBlocked() {
  static const bool blocked = [] {
    const char* v = std::getenv("SCAAT_CONV_LAYOUT");
    return v != nullptr && std::string(v) == "blocked";
  }();
  return blocked;
}

ConvPrims* buildConv(const Key&, const void* p) {
  const auto& c = *static_cast<const ConvCtx*>(p);
  // oneDNN 2.6.3's weight gradient on NHWC with a negative padding_r is wrong for channel counts
  // that are not multiples of 8 (1×1 stride 2 on an even input, 4 → 6 channels: off by 100 %;
  // src/engine/native/kernels.test.ts): that one op takes the blocked path with the view.
  const bool negative = c.s->pb < 0 || c.s->pr < 0;
  if (!forceBlocked() && !(negative && c.op == ConvOp::backwardWeights)) {
    try {
      if (ConvPrims* r = buildConvLayout(c, true)) return r;
    } catch (const dnnl::error&) {
      // no implementation for this geometry on NHWC activations: the blocked one below
    }
  }
  return buildConvLayout(c, false);
}

std::map<Key, std::unique_ptr<ConvPrims>>& convCache() {
  static std::map<Key, std::unique_ptr<ConvPrims>> c;
  return c;
}

ConvPrims& convPrims(ConvOp op, const ConvShape& s, bool bias, Act act, float alpha) {
  const ConvCtx ctx{op, &s, bias, act, alpha};
  return cached(convCache(), convKey(op, s, bias, act, alpha), &buildConv, &ctx);
}

inline float activate(Act act, float alpha, float v) {
  switch (act) {
    case Act::relu: return v > 0.f ? v : 0.f;
    case Act::leakyrelu: return v > 0.f ? v : alpha * v;
    case Act::relu6: return v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
    case Act::elu: return v > 0.f ? v : std::expm1(v);
    case Act::sigmoid: return 1.f / (1.f + std::exp(-v));
    case Act::linear: break;
  }
  return v;
}

}  // namespace

void conv2dForward(const ConvShape& s, const float* x, const float* w, const float* bias, Act act, float alpha,
                   float* y) {
  auto& p = convPrims(ConvOp::forward, s, bias != nullptr, act, alpha);
  auto& r = rt();
  const memory xm = p.s0.in(x, 0), wm = p.s1.in(w, 1), ym = p.out.out(y, 2);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}};
  if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, memory(md({s.oc}, tag::x), r.eng, const_cast<float*>(bias)));
  p.prim->execute(r.strm, args);
  p.out.finish(ym, y);
  r.strm.wait();
}

void conv2dBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx) {
  auto& p = convPrims(ConvOp::backwardData, s, false, Act::linear, 0.f);
  auto& r = rt();
  if (s.pb < 0 || s.pr < 0) std::memset(dx, 0, sizeof(float) * s.n * s.h * s.w * s.c);  // unread rows
  const memory dym = p.s0.in(dy, 0), wm = p.s1.in(w, 1), dxm = p.out.out(dx, 2);
  p.prim->execute(r.strm, {{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, dxm}});
  p.out.finish(dxm, dx);
  r.strm.wait();
}

void conv2dBackwardWeights(const ConvShape& s, const float* x, const float* dy, float* dw) {
  auto& p = convPrims(ConvOp::backwardWeights, s, false, Act::linear, 0.f);
  auto& r = rt();
  const memory xm = p.s0.in(x, 0), dym = p.s1.in(dy, 1), dwm = p.out.out(dw, 2);
  p.prim->execute(r.strm, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_WEIGHTS, dwm}});
  p.out.finish(dwm, dw);
  r.strm.wait();
}

void matmul(int64_t batch, int64_t m, int64_t n, int64_t k, bool transA, bool transB, const float* a,
            int64_t strideA, const float* b, int64_t strideB, const float* bias, Act act, float alpha, float* c) {
  const int64_t lda = transA ? m : k, ldb = transB ? k : n;
  for (int64_t i = 0; i < batch; i++) {
    const dnnl_status_t st = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, 1.f, a + i * strideA, lda,
                                        b + i * strideB, ldb, 0.f, c + i * m * n, n);
    if (st != dnnl_success) throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(st));
  }
  if (bias == nullptr && act == Act::linear) return;
  const int64_t rows = batch * m;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    float* row = c + r * n;
    for (int64_t j = 0; j < n; j++) row[j] = activate(act, alpha, bias != nullptr ? row[j] + bias[j] : row[j]);
  }
}

void setThreads(int threads) { omp_set_num_threads(threads < 1 ? 1 : threads); }

int threads() { return omp_get_max_threads(); }

std::string describe() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

}  // namespace scaat
