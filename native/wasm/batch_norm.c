/*
 * Training-mode batch normalisation in WebAssembly SIMD, for the pure-wasm path
 * (src/engine/kernels/fused-training.ts): the same two kernels as the native accelerator's
 * (native/src/bn_train.cc), over x viewed as rows x C (channels innermost, every axis but the last
 * folded into rows):
 *
 *   forward   mean, biased variance per channel (batch statistics), y = (x - mean) * k + offset,
 *             k = scale / sqrt(variance + eps)
 *   backward  dx, dscale, doffset of y, through the statistics, plus the gradients dmean, dvariance
 *             reaching the statistics outputs
 *
 * Each pass is split into work items of `chunk` rows (the caller's choice, fixed by the shape, never
 * by the thread count): a thread takes whole items. Sums are taken in float32 over blocks of BLOCK
 * rows (in L1 while they are summed) and added, block after block, into each item's float64 partials;
 * the caller's thread then merges the items' partials in item order (bn_moments_finish,
 * bn_grad_finish). So every value is the same sequence of operations whatever share of the items a
 * thread takes: 1 and n threads give the same bits.
 *
 * The statistics are moments around each block's own mean (x - c, c = the block's float mean, then
 * the exact block mean c + sum(x - c)/len and M2 = sum((x - c)^2) - (sum(x - c))^2/len), merged in
 * double by Chan et al.'s pairwise update: stable whatever the data's offset or order.
 *
 * Built by scripts/build-wasm-kernels.mjs; no libc, no stack, no data: it reads and writes only the
 * memory its pointers name (the importing backend's heap).
 */
#include <wasm_simd128.h>

#define BLOCK 32 /* rows summed in float32 before they reach the float64 partials */

#define INLINE static inline __attribute__((always_inline))

INLINE int imin(int a, int b) { return a < b ? a : b; }

/* n (1 to 4) consecutive floats, the lanes past n zero; and their store. */
INLINE v128_t load_n(const float* p, const int n) {
  if (n == 4) return wasm_v128_load(p);
  if (n == 1) return wasm_v128_load32_zero(p);
  if (n == 2) return wasm_v128_load64_zero(p);
  return wasm_v128_load32_lane(p + 2, wasm_v128_load64_zero(p), 2);
}
INLINE void store_n(float* p, v128_t v, const int n) {
  if (n == 4) {
    wasm_v128_store(p, v);
  } else if (n == 1) {
    wasm_v128_store32_lane(p, v, 0);
  } else {
    wasm_v128_store64_lane(p, v, 0);
    if (n == 3) wasm_v128_store32_lane(p + 2, v, 2);
  }
}

/* Lanes 0-1 and 2-3 of a float32 vector as float64 vectors. */
INLINE v128_t lo64(v128_t v) { return wasm_f64x2_promote_low_f32x4(v); }
INLINE v128_t hi64(v128_t v) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3)); }

/* n (1 to 4) consecutive doubles as two float64 vectors (lanes past n zero), and their store. */
INLINE void load_d(const double* p, const int n, v128_t* a, v128_t* b) {
  *a = n >= 2 ? wasm_v128_load(p) : wasm_v128_load64_zero(p);
  *b = n == 4 ? wasm_v128_load(p + 2) : n == 3 ? wasm_v128_load64_zero(p + 2) : wasm_f64x2_splat(0.0);
}
INLINE void store_d(double* p, const int n, v128_t a, v128_t b) {
  if (n >= 2) wasm_v128_store(p, a); else wasm_v128_store64_lane(p, a, 0);
  if (n == 4) wasm_v128_store(p + 2, b); else if (n == 3) wasm_v128_store64_lane(p + 2, b, 0);
}
/* p[0 .. n) = (first ? 0 : p[0 .. n)) + the float32 lanes of v, in double (no zero fill: a loop
 * of stores would become a call of memset, which this module does not have). */
INLINE void add_d(double* p, const int n, v128_t v, int first) {
  v128_t a = wasm_f64x2_splat(0.0), b = a;
  if (!first) load_d(p, n, &a, &b);
  store_d(p, n, wasm_f64x2_add(a, lo64(v)), wasm_f64x2_add(b, hi64(v)));
}

/* Channels c0 .. c0 + n of the block of nb rows at x (row stride C), merged into the item's
 * float64 mean and M2 at pm and pq, which hold `done` rows so far. */
INLINE void moments_group(const float* x, int C, int nb, double done, double* pm, double* pq, const int n) {
  /* even and odd rows in separate accumulators (two dependency chains), added at the end */
  const v128_t z = wasm_f32x4_splat(0.0f);
  v128_t a = z, b = z;
  int r = 0;
  for (; r + 2 <= nb; r += 2) {
    a = wasm_f32x4_add(a, load_n(x + r * C, n));
    b = wasm_f32x4_add(b, load_n(x + (r + 1) * C, n));
  }
  if (r < nb) a = wasm_f32x4_add(a, load_n(x + r * C, n));
  const v128_t c = wasm_f32x4_div(wasm_f32x4_add(a, b), wasm_f32x4_splat((float)nb));
  v128_t s1 = z, s2 = z, t1 = z, t2 = z;
  for (r = 0; r + 2 <= nb; r += 2) {
    const v128_t d = wasm_f32x4_sub(load_n(x + r * C, n), c), e = wasm_f32x4_sub(load_n(x + (r + 1) * C, n), c);
    s1 = wasm_f32x4_add(s1, d);
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(d, d));
    t1 = wasm_f32x4_add(t1, e);
    t2 = wasm_f32x4_add(t2, wasm_f32x4_mul(e, e));
  }
  if (r < nb) {
    const v128_t d = wasm_f32x4_sub(load_n(x + r * C, n), c);
    s1 = wasm_f32x4_add(s1, d);
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(d, d));
  }
  s1 = wasm_f32x4_add(s1, t1);
  s2 = wasm_f32x4_add(s2, t2);
  const v128_t inv = wasm_f64x2_splat(1.0 / nb), zero = wasm_f64x2_splat(0.0);
  /* the block's mean and M2, in double */
  const v128_t s1a = lo64(s1), s1b = hi64(s1);
  const v128_t da0 = wasm_f64x2_mul(s1a, inv), db0 = wasm_f64x2_mul(s1b, inv);
  const v128_t ma = wasm_f64x2_add(lo64(c), da0), mb = wasm_f64x2_add(hi64(c), db0);
  const v128_t qa = wasm_f64x2_max(zero, wasm_f64x2_sub(lo64(s2), wasm_f64x2_mul(s1a, da0)));
  const v128_t qb = wasm_f64x2_max(zero, wasm_f64x2_sub(hi64(s2), wasm_f64x2_mul(s1b, db0)));
  if (done == 0.0) {
    store_d(pm, n, ma, mb);
    store_d(pq, n, qa, qb);
    return;
  }
  /* Chan et al.: mean += delta * nb / total, M2 += M2_block + delta^2 * done * nb / total */
  v128_t m0, m1, q0, q1;
  load_d(pm, n, &m0, &m1);
  load_d(pq, n, &q0, &q1);
  const double total = done + nb;
  const v128_t w = wasm_f64x2_splat((double)nb / total), w2 = wasm_f64x2_splat(done * nb / total);
  const v128_t da = wasm_f64x2_sub(ma, m0), db = wasm_f64x2_sub(mb, m1);
  store_d(pm, n, wasm_f64x2_add(m0, wasm_f64x2_mul(da, w)), wasm_f64x2_add(m1, wasm_f64x2_mul(db, w)));
  store_d(pq, n, wasm_f64x2_add(q0, wasm_f64x2_add(qa, wasm_f64x2_mul(wasm_f64x2_mul(da, da), w2))),
          wasm_f64x2_add(q1, wasm_f64x2_add(qb, wasm_f64x2_mul(wasm_f64x2_mul(db, db), w2))));
}

/* The channel groups of a block: full groups of 4, then the C % 4 channels left. */
#define FOR_GROUPS(CALL)                                         \
  do {                                                           \
    int c0 = 0;                                                  \
    for (; c0 + 4 <= C; c0 += 4) CALL(4);                        \
    switch (C - c0) {                                            \
      case 1: CALL(1); break;                                    \
      case 2: CALL(2); break;                                    \
      case 3: CALL(3); break;                                    \
    }                                                            \
  } while (0)

/*
 * Items w0 .. w1 - 1 of the statistics: item w (rows w * chunk .. up to rows) writes its mean and
 * M2 per channel, in double, to part[w * 2C + c] and part[w * 2C + C + c].
 */
__attribute__((export_name("bn_moments")))
void bn_moments(const float* x, double* part, int rows, int C, int chunk, int w0, int w1) {
  for (int w = w0; w < w1; w++) {
    const int r0 = w * chunk, r1 = imin(rows, r0 + chunk);
    double* pm = part + (long)w * 2 * C;
    double* pq = pm + C;
    for (int b0 = r0; b0 < r1; b0 += BLOCK) {
      const int nb = imin(BLOCK, r1 - b0);
      const float* xb = x + (long)b0 * C;
      const double done = (double)(b0 - r0);
#define MOMENTS(N) moments_group(xb + c0, C, nb, done, pm + c0, pq + c0, N)
      FOR_GROUPS(MOMENTS);
#undef MOMENTS
    }
  }
}

/*
 * Merges the items' moments in item order into mean and biased variance ([C], float32) and writes
 * the forward pass's per-channel constants to coef ([4C] float32: the float mean m, its rounding
 * error lo = exact mean - m, k = scale / sqrt(variance + eps), the offset); scale and offset may be
 * 0 (absent: 1 and 0). y = ((x - m) - lo) * k + offset uses the exact mean's deviation.
 */
__attribute__((export_name("bn_moments_finish")))
void bn_moments_finish(const double* part, int items, int rows, int C, int chunk, const float* scale,
                       const float* offset, float eps, float* mean, float* var, float* coef) {
  for (int c = 0; c < C; c++) {
    double n = 0.0, m = 0.0, q = 0.0;
    for (int w = 0; w < items; w++) {
      const double nw = (double)(imin(rows, (w + 1) * chunk) - w * chunk);
      const double mw = part[(long)w * 2 * C + c], qw = part[(long)w * 2 * C + C + c];
      if (w == 0) {
        m = mw, q = qw;
      } else {
        const double total = n + nw, d = mw - m;
        m += d * nw / total;
        q += qw + d * d * n * nw / total;
      }
      n += nw;
    }
    mean[c] = (float)m;
    var[c] = (float)(q / n);
    coef[c] = mean[c];
    coef[C + c] = (float)(m - (double)mean[c]);
    coef[2 * C + c] = (float)((scale ? (double)scale[c] : 1.0) / __builtin_sqrt((double)var[c] + (double)eps));
    coef[3 * C + c] = offset ? offset[c] : 0.0f;
  }
}

/* y = ((x - m) - lo) * k + o over the items' rows (coef as bn_moments_finish writes it). */
__attribute__((export_name("bn_forward_apply")))
void bn_forward_apply(const float* x, const float* coef, float* y, int rows, int C, int chunk, int w0, int w1) {
  const int r0 = w0 * chunk, r1 = imin(rows, w1 * chunk);
  for (int b0 = r0; b0 < r1; b0 += BLOCK) {
    const int nb = imin(BLOCK, r1 - b0);
    const float* xb = x + (long)b0 * C;
    float* yb = y + (long)b0 * C;
#define APPLY(N)                                                                                 \
    do {                                                                                         \
      const v128_t m = load_n(coef + c0, N), lo = load_n(coef + C + c0, N);                      \
      const v128_t k = load_n(coef + 2 * C + c0, N), o = load_n(coef + 3 * C + c0, N);           \
      for (int r = 0; r < nb; r++) {                                                             \
        const v128_t d = wasm_f32x4_sub(wasm_f32x4_sub(load_n(xb + r * C + c0, N), m), lo);      \
        store_n(yb + r * C + c0, wasm_f32x4_add(wasm_f32x4_mul(d, k), o), N);                    \
      }                                                                                          \
    } while (0)
    FOR_GROUPS(APPLY);
#undef APPLY
  }
}

/*
 * Items w0 .. w1 - 1 of the gradient's sums: item w writes, in double, sum dy, sum dy * (x - mean)
 * and sum (x - mean) per channel (mean: the float32 batch mean) to part[w * 3C + k * C + c].
 */
__attribute__((export_name("bn_grad_sums")))
void bn_grad_sums(const float* x, const float* dy, const float* mean, double* part, int rows, int C, int chunk,
                  int w0, int w1) {
  for (int w = w0; w < w1; w++) {
    const int r0 = w * chunk, r1 = imin(rows, r0 + chunk);
    double* p = part + (long)w * 3 * C;
    for (int b0 = r0; b0 < r1; b0 += BLOCK) {
      const int nb = imin(BLOCK, r1 - b0), first = b0 == r0;
      const float* xb = x + (long)b0 * C;
      const float* gb = dy + (long)b0 * C;
#define SUMS(N)                                                                                  \
      do {                                                                                       \
        const v128_t m = load_n(mean + c0, N);                                                   \
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0;                                    \
        for (int r = 0; r < nb; r++) {                                                           \
          const v128_t g = load_n(gb + r * C + c0, N);                                           \
          const v128_t d = wasm_f32x4_sub(load_n(xb + r * C + c0, N), m);                        \
          a0 = wasm_f32x4_add(a0, g);                                                            \
          a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(g, d));                                         \
          a2 = wasm_f32x4_add(a2, d);                                                            \
        }                                                                                        \
        add_d(p + c0, N, a0, first);                                                             \
        add_d(p + C + c0, N, a1, first);                                                         \
        add_d(p + 2 * C + c0, N, a2, first);                                                     \
      } while (0)
      FOR_GROUPS(SUMS);
#undef SUMS
    }
  }
}

/*
 * Sums the items' partials in item order and writes dscale, doffset ([C]) and the constants of
 * dx = ka * dy + kb * ((x - mean) - lo) + kc to coef ([4C]: lo, ka, kb, kc), as
 * native/src/bn_train.cc does: with s1 = sum dy, s2 = sum dy * (x - exact mean), r = 1/sqrt(var + eps),
 * g = scale, n = rows: ka = g r, kb = 2 dvar / n - g r^3 s2 / n, kc = (dmean - g r s1) / n,
 * dscale = r s2, doffset = s1. scale, dmean, dvar may be 0 (absent: 1, 0, 0).
 */
__attribute__((export_name("bn_grad_finish")))
void bn_grad_finish(const double* part, int items, int rows, int C, const float* var, const float* scale,
                    const float* dmean, const float* dvar, float eps, float* coef, float* dscale, float* doffset) {
  const double n = (double)rows;
  for (int c = 0; c < C; c++) {
    double s1 = 0.0, sx = 0.0, sd = 0.0;
    for (int w = 0; w < items; w++) {
      const double* p = part + (long)w * 3 * C;
      s1 += p[c], sx += p[C + c], sd += p[2 * C + c];
    }
    const double mlo = sd / n, s2 = sx - mlo * s1;
    const double r = 1.0 / __builtin_sqrt((double)var[c] + (double)eps);
    const double g = scale ? (double)scale[c] : 1.0;
    const double gm = dmean ? (double)dmean[c] : 0.0, gv = dvar ? (double)dvar[c] : 0.0;
    coef[c] = (float)mlo;
    coef[C + c] = (float)(g * r);
    coef[2 * C + c] = (float)(2.0 * gv / n - g * r * r * r * s2 / n);
    coef[3 * C + c] = (float)((gm - g * r * s1) / n);
    dscale[c] = (float)(r * s2);
    doffset[c] = (float)s1;
  }
}

/* dx = ka * dy + kb * ((x - mean) - lo) + kc over the items' rows (coef as bn_grad_finish writes it). */
__attribute__((export_name("bn_grad_apply")))
void bn_grad_apply(const float* x, const float* dy, const float* mean, const float* coef, float* dx, int rows, int C,
                   int chunk, int w0, int w1) {
  const int r0 = w0 * chunk, r1 = imin(rows, w1 * chunk);
  for (int b0 = r0; b0 < r1; b0 += BLOCK) {
    const int nb = imin(BLOCK, r1 - b0);
    const float* xb = x + (long)b0 * C;
    const float* gb = dy + (long)b0 * C;
    float* db = dx + (long)b0 * C;
#define APPLY(N)                                                                                 \
    do {                                                                                         \
      const v128_t m = load_n(mean + c0, N), lo = load_n(coef + c0, N);                          \
      const v128_t ka = load_n(coef + C + c0, N), kb = load_n(coef + 2 * C + c0, N);             \
      const v128_t kc = load_n(coef + 3 * C + c0, N);                                            \
      for (int r = 0; r < nb; r++) {                                                             \
        const v128_t d = wasm_f32x4_sub(wasm_f32x4_sub(load_n(xb + r * C + c0, N), m), lo);      \
        const v128_t g = load_n(gb + r * C + c0, N);                                             \
        store_n(db + r * C + c0,                                                                 \
                wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(ka, g), wasm_f32x4_mul(kb, d)), kc), N); \
      }                                                                                          \
    } while (0)
    FOR_GROUPS(APPLY);
#undef APPLY
  }
}
