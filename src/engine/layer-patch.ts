/**
 * Wrapping a tf.layers class's `call()` — how scaat changes how a stock layer computes (never what)
 * when the graph TF.js builds inside the layer is the problem (./conv-layer.ts,
 * ./native/batch-norm-layer.ts). The class comes from TF.js's serialization registry, so every
 * instance, including those of loaded models, gets the wrapper; `unwrapLayerCall` restores the stock
 * method (tests and benchmarks compare the two).
 */
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';

/** A tf.layers `call()`. */
export type LayerCall = (this: tf.layers.Layer, inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) => Tensor | Tensor[];

const stockCalls = new Map<string, LayerCall>();

function prototypeOf(className: string): { call?: LayerCall } | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  return entry?.[0]?.prototype as { call?: LayerCall } | undefined;
}

/**
 * Replaces `className`'s `call()` with `wrap(stock)`. Idempotent (a second call keeps the first
 * wrapper); false when TF.js has no such registered class (then nothing changes).
 */
export function wrapLayerCall(className: string, wrap: (stock: LayerCall) => LayerCall): boolean {
  if (stockCalls.has(className)) return true;
  const proto = prototypeOf(className);
  if (proto?.call === undefined) return false;
  stockCalls.set(className, proto.call);
  proto.call = wrap(proto.call);
  return true;
}

/** Puts `className`'s stock `call()` back (no-op when it is not wrapped). */
export function unwrapLayerCall(className: string): void {
  const stock = stockCalls.get(className);
  const proto = prototypeOf(className);
  if (stock === undefined || proto === undefined) return;
  proto.call = stock;
  stockCalls.delete(className);
}

/** The one input tensor of a call (tf.layers passes a tensor or a one-element list), else undefined. */
export function singleInput(inputs: Tensor | Tensor[]): Tensor | undefined {
  return Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
}
