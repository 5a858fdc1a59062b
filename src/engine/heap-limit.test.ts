import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HeapLimitError, ConfigError } from '../errors.js';
import { heapLimitError } from '../train/loop.js';
import { fillWasmHeap } from '../../test/helpers/index.js';
import { setupBackend } from './backend.js';
import { guardWasmAllocations, isWasmHeapExhausted, WASM_HEAP_LIMIT_BYTES, wasmHeapBytes } from './memory.js';

const MiB = 1024 ** 2;

describe('isWasmHeapExhausted', () => {
  it('is a wasm trap with the heap within 256 MiB of 4 GiB, nothing else', () => {
    const trap = new WebAssembly.RuntimeError('memory access out of bounds');
    expect(WASM_HEAP_LIMIT_BYTES).toBe(2 ** 32);
    expect(isWasmHeapExhausted(trap, 2 ** 32 - 100 * MiB)).toBe(true);
    expect(isWasmHeapExhausted(trap, 2 ** 32 - 256 * MiB)).toBe(true);
    // a trap on a heap with room left is a bug, not a full heap
    expect(isWasmHeapExhausted(trap, 2 ** 32 - 257 * MiB)).toBe(false);
    expect(isWasmHeapExhausted(trap, 16 * MiB)).toBe(false);
    expect(isWasmHeapExhausted(trap, undefined)).toBe(false);
    // only wasm traps
    expect(isWasmHeapExhausted(new Error('memory access out of bounds'), 2 ** 32)).toBe(false);
    expect(isWasmHeapExhausted(new RangeError('Array buffer allocation failed'), 2 ** 32)).toBe(false);
  });
});

describe('guardWasmAllocations on a stand-in module', () => {
  // a heap of 1000 bytes with a bump allocator that returns 0 (Emscripten's failure) when full
  function module() {
    let top = 8;
    const calls: number[] = [];
    const wasm = {
      HEAPU8: new Uint8Array(1000),
      _malloc: (bytes: number): number => {
        calls.push(bytes);
        if (top + bytes > 1000) return 0;
        const at = top;
        top += bytes;
        return at;
      },
    };
    return { wasm, calls };
  }

  it('passes allocations through and throws a recognised trap where malloc returns 0', () => {
    const { wasm, calls } = module();
    guardWasmAllocations({ wasm });
    expect(wasm._malloc(100)).toBe(8);
    expect(wasm._malloc(0)).toBe(108);
    let caught: unknown;
    try {
      wasm._malloc(2000);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WebAssembly.RuntimeError);
    expect((caught as Error).message).toMatch(/2000 bytes failed with the wasm heap at 1000 bytes/);
    // recognised whatever the heap's size
    expect(isWasmHeapExhausted(caught, 1000)).toBe(true);
    expect(isWasmHeapExhausted(new WebAssembly.RuntimeError('unreachable'), 1000)).toBe(false);
    expect(calls).toEqual([100, 0, 2000]);
  });

  it('refuses a request wasm32 cannot hold without calling malloc (its size would wrap), and guards once', () => {
    const { wasm, calls } = module();
    guardWasmAllocations({ wasm });
    const once = wasm._malloc;
    guardWasmAllocations({ wasm });
    expect(wasm._malloc).toBe(once);
    expect(() => wasm._malloc(4.1e9)).toThrow(WebAssembly.RuntimeError);
    expect(calls).toEqual([]);
  });

  it('leaves a backend without a wasm module alone', () => {
    expect(() => guardWasmAllocations({})).not.toThrow();
    expect(() => guardWasmAllocations(undefined)).not.toThrow();
  });
});

describe('the wasm backend with a full heap', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it('throws a recognised error for a tensor the heap cannot hold, and keeps computing correctly after it', () => {
    let caught: unknown;
    try {
      fillWasmHeap();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WebAssembly.RuntimeError);
    expect((caught as Error).message).toMatch(/^an allocation of 2684354560 bytes failed with the wasm heap at \d+ bytes/);
    expect(isWasmHeapExhausted(caught)).toBe(true);
    // the allocator's data is intact: new tensors are allocated and computed as before
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([10, 20, 30]);
    const c = tf.add(a, b);
    expect(Array.from(c.dataSync())).toEqual([11, 22, 33]);
    tf.dispose([a, b, c]);
    expect(tf.memory().numTensors).toBe(before);
    expect(wasmHeapBytes()).toBeGreaterThan(2.5 * 1024 ** 3);
    expect(wasmHeapBytes()).toBeLessThanOrEqual(WASM_HEAP_LIMIT_BYTES);
  });
});

describe('heapLimitError', () => {
  it('names the step, the batch, half the batch and the last checkpoint; exits as a setting (ConfigError)', () => {
    const cause = new WebAssembly.RuntimeError('Aborted()');
    const e = heapLimitError(cause, { trainer: 'pgd-at', batchSize: 128, inputShape: [96, 96, 3], epoch: 2, step: 158, latest: '/runs/a/checkpoints/step-00000150' });
    expect(e).toBeInstanceOf(HeapLimitError);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.name).toBe('HeapLimitError');
    expect(e.code).toBe('HEAP_LIMIT');
    expect(e.cause).toBe(cause);
    expect(e.message).toMatch(/^epoch 3, step 159: the pgd-at training step at batchSize 128 on 96×96×3 inputs needs more memory than the wasm backend's 4 GiB heap/);
    expect(e.message).toMatch(/\(wasm32's limit; wasm said: Aborted\(\)\); train with a smaller batch \(e\.g\. --set batchSize=64,/);
    expect(e.message).toMatch(/The last checkpoint before it is \/runs\/a\/checkpoints\/step-00000150$/);
    expect(heapLimitError(cause, { trainer: 'scaat', batchSize: 1, inputShape: [28, 28, 1], epoch: 0, step: 0 }).message).toMatch(/batchSize=1,.*No checkpoint was written before it$/);
  });
});
