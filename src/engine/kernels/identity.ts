/**
 * Zero-copy `Identity` and same-dtype `Cast` on wasm. Stock wasm copies the tensor (TF.js calls
 * Identity for every tensor it keeps for backprop: `tf.keep`, `saveTensorsForBackwardMode`,
 * `clone`), about 15 % of a ResNet-20 training step. Tensors are immutable in TF.js, so the output
 * can share the input's memory with a reference count, as the `cpu` backend and wasm's own
 * `Reshape` already do. `Cast` to the tensor's own dtype is the same copy (`tf.moments` casts its
 * input to float32 in every batch norm in training mode, and so does the `Square` gradient: 57
 * full-size copies, ~4 % of a ResNet-20 training step with the native accelerator); it shares
 * memory the same way. A Cast to bool writes x ≠ 0 (stock wasm copies the number, so 2 → 2 and
 * -3 → 253 in the Uint8 buffer: a TF.js 4.22 defect); other dtype changes keep the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { replaceKernel } from './_wasm.js';
import type { WasmKernelArgs } from './_wasm.js';

/** The output shares `x`'s memory (one more reference on the wasm heap). */
function share(args: WasmKernelArgs, x: TensorInfo): TensorInfo {
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

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
    return x.dtype === 'string' ? stock(args) : share(args, x);
  });
}

let stockCast: tf.KernelFunc | undefined;

/**
 * Registers Cast on wasm: same dtype shares memory; to bool writes x ≠ 0 (as the cpu backend);
 * other dtype changes (and strings) go to the stock kernel, captured once so that registering
 * twice does not wrap our own kernel.
 */
export function registerCastKernel(): void {
  stockCast ??= tf.getKernel('Cast', 'wasm')!.kernelFunc;
  const stock = stockCast;
  replaceKernel('Cast', (args) => {
    const x = args.inputs['x']!;
    const dtype = args.attrs?.['dtype'] as tf.DataType;
    if (dtype === x.dtype && x.dtype !== 'string') return share(args, x);
    if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
      const out = args.backend.makeOutput(x.shape, 'bool');
      const src = args.backend.typedArrayFromHeap(x);
      const dst = args.backend.typedArrayFromHeap(out);
      for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
      return out;
    }
    return stock(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
  });
}
