/**
 * tf.layers' `Conv2D` without the filter gradients nobody asked for.
 *
 * Under a gradient tape, a linear-activation `Conv2D` layer (every ResNet convolution: no bias,
 * batch norm after it) runs TF.js's fused convolution, whose custom gradient computes ∂x, ∂filter
 * and ∂bias eagerly, so a plain `tf.grad(f)(x)` through such a model pays for every filter
 * gradient and throws it away (ResNet-20, batch 128: ~90 of ~280 ms per input-gradient pass, see
 * docs/benchmarks.md). The plain `tf.conv2d` op's gradient is lazy: the tape asks only for the
 * gradients on its path. {@link installLazyConvGradients} wraps `Conv2D.prototype.call` so that,
 * while a gradient is being recorded, such a layer runs `tf.conv2d` (+ `tf.add` of the bias):
 * the same values, and the filter gradient only when something needs it (training does; a
 * saliency map does not). Without a tape (inference) and for every other activation (TF.js does
 * not fuse those under a tape anyway) the stock `call()` runs unchanged.
 *
 * scaat's own saliency and attack passes also run inside `inputGradientOnly` (./grad-scope.ts),
 * which covers fused ops this does not (depthwise convolutions, dense layers).
 */
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import { singleInput, unwrapLayerCall, wrapLayerCall } from './layer-patch.js';

/** The fields of tf.layers' Conv2D the wrapper reads (TF.js 4.x). */
interface ConvLayerFields {
  readonly rank: number;
  readonly strides: number[];
  readonly padding: string;
  readonly dataFormat: string;
  readonly dilationRate: number[];
  readonly activation?: { getClassName(): string } | null;
  readonly kernel: tf.LayerVariable;
  readonly bias?: tf.LayerVariable | null;
}
/**
 * Whether the lazy path takes this call: under a tape, a 2-D channels-last linear convolution
 * without dilation (TF.js's fused gradient rejects dilation, and so would the stock conv2d one).
 */
function lazyApplies(layer: ConvLayerFields, x: Tensor): boolean {
  if (tf.engine().state.gradientDepth === 0) return false;
  const linear = layer.activation == null || layer.activation.getClassName() === 'linear';
  return linear && layer.rank === 2 && layer.dataFormat === 'channelsLast' && x.rank === 4 &&
    (layer.padding === 'same' || layer.padding === 'valid') && layer.dilationRate.every((d) => d === 1);
}

/**
 * Wraps tf.layers' `Conv2D.prototype.call` (see the file comment). Idempotent; false when TF.js has
 * no registered Conv2D class (then nothing changes).
 */
export function installLazyConvGradients(): boolean {
  return wrapLayerCall('Conv2D', (stock) => function lazyConv2dCall(this: tf.layers.Layer, inputs, kwargs) {
    const x = singleInput(inputs);
    const layer = this as unknown as ConvLayerFields;
    if (x === undefined || !lazyApplies(layer, x)) return stock.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const y = tf.conv2d(x as tf.Tensor4D, layer.kernel.read() as tf.Tensor4D, layer.strides as [number, number],
        layer.padding as 'same' | 'valid', 'NHWC');
      return layer.bias ? tf.add(y, layer.bias.read()) : y;
    });
  });
}

/** Puts the stock `call()` back (tests compare the two). */
export function uninstallLazyConvGradients(): void {
  unwrapLayerCall('Conv2D');
}
