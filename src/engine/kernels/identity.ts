/**
 * Zero-copy `Identity` on wasm. Stock wasm copies the tensor (TF.js calls Identity for every
 * tensor it keeps for backprop: `tf.keep`, `saveTensorsForBackwardMode`, `clone`), about 15 % of a
 * ResNet-20 training step. Tensors are immutable in TF.js, so the output can share the input's
 * memory with a reference count, as the `cpu` backend and wasm's own `Reshape` already do.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { replaceKernel } from './_wasm.js';
import type { WasmKernelArgs } from './_wasm.js';

/** Registers the shared-memory Identity on wasm (string tensors keep the stock copy). */
export function registerIdentityKernel(): void {
  const stock = (args: WasmKernelArgs): TensorInfo => {
    const x = args.inputs['x']!;
    const out = args.backend.makeOutput(x.shape, x.dtype);
    args.backend.typedArrayFromHeap(out).set(args.backend.typedArrayFromHeap(x));
    return out;
  };
  replaceKernel('Identity', (args) => {
    const x = args.inputs['x']!;
    if (x.dtype === 'string') return stock(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  });
}
