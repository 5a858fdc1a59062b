import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { itUnless } from '../../test/helpers/index.js';
import { setupBackend } from './backend.js';

function resolvable(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
const hasTfjsNode = resolvable('@tensorflow/tfjs-node') || resolvable('@tensorflow/tfjs-node-gpu');

describe('setupBackend', () => {
  afterAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it("selects 'cpu' and reports what runs", async () => {
    const info = await setupBackend({ backend: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(info).toMatchObject({ name: 'cpu', tfjsVersion: tf.version.tfjs, threads: 1, accelerator: 'none', node: process.version });
    expect(info.machine).toMatch(/\d+ × .+, \d+ GiB, /);
  });

  it("selects 'wasm' with scaat's training kernels registered, idempotently", async () => {
    const info = await setupBackend({ backend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
    expect(info.name).toBe('wasm');
    expect(info.threads).toBeGreaterThanOrEqual(1);
    for (const k of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'MaxPoolGrad']) {
      expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
    }
    expect(await setupBackend({ backend: 'wasm' })).toBe(info);
  });

  it(`resolves 'auto' to ${hasTfjsNode ? "'tensorflow'" : "'wasm' (tfjs-node is not installed)"}`, async () => {
    const info = await setupBackend({ backend: 'auto' });
    expect(info.name).toBe(hasTfjsNode ? 'tensorflow' : 'wasm');
  });

  it('rejects an unknown name with a ConfigError listing the choices', async () => {
    await expect(setupBackend({ backend: 'gpu' })).rejects.toThrow(ConfigError);
    await expect(setupBackend({ backend: 'gpu' })).rejects.toThrow(
      "backend: expected one of auto, wasm, cpu, tensorflow, got 'gpu'");
  });

  itUnless(hasTfjsNode ? '@tensorflow/tfjs-node is installed' : undefined)("rejects 'tensorflow' without tfjs-node, saying what to install", async () => {
    const before = tf.getBackend();
    await expect(setupBackend({ backend: 'tensorflow' })).rejects.toThrow(ConfigError);
    await expect(setupBackend({ backend: 'tensorflow' })).rejects.toThrow(/@tensorflow\/tfjs-node.*--backend wasm/);
    expect(tf.getBackend()).toBe(before);
  });
});
