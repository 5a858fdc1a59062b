/*
 * The ReLU gradient in WebAssembly SIMD, for the pure-wasm path (src/engine/kernels/fused-training.ts):
 * dx = dy * [x > 0] in one pass, as the native accelerator's reluGrad (native/src/omp_kernels.cc):
 * a product with 1 or 0, not a select, so dy = NaN or infinity where x <= 0 gives NaN as in TF.js,
 * and the gradient at x = 0 is 0 (TF.js's step(0) = 0). Stock TF.js takes Step, Cast and Multiply.
 *
 * Work item w is values w * chunk .. up to n; a thread takes whole items (each value is computed
 * alone, so any split gives the same bits). Built by scripts/build-wasm-kernels.mjs; no libc, no
 * stack, no data: it reads and writes only the memory its pointers name.
 */
#include <wasm_simd128.h>

__attribute__((export_name("relu_grad")))
void relu_grad(const float* dy, const float* x, float* dx, int n, int chunk, int w0, int w1) {
  const int i0 = w0 * chunk, i1 = n < w1 * chunk ? n : w1 * chunk;
  const v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t step = wasm_v128_and(wasm_f32x4_gt(wasm_v128_load(x + i), zero), one);
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), step));
  }
  for (; i < i1; i++) dx[i] = dy[i] * (x[i] > 0.0f ? 1.0f : 0.0f);
}
