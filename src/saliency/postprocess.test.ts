import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, useBackend } from '../../test/helpers/index.js';
import { ConfigError } from '../errors.js';
import { toSaliencyMap } from './postprocess.js';
import type { ChannelReduction } from './postprocess.js';

beforeAll(() => useBackend('cpu'));

describe('toSaliencyMap', () => {
  it('reduces the channels of every image of a batch, leaks no tensors, and leaves the attribution alive', async () => {
    // [2, 1, 2, 2]: pixels (image 0) [1, −2], [3, −4]; (image 1) [0.5, 6], [−7, 8]
    const a = tf.tensor4d([1, -2, 3, -4, 0.5, 6, -7, 8], [2, 1, 2, 2]);
    const want: Record<ChannelReduction, number[]> = {
      'sum-abs': [3, 7, 6.5, 15],
      'max-abs': [2, 4, 6, 8],
      mean: [-0.5, -0.5, 3.25, 0.5],
      sum: [-1, -1, 6.5, 1],
    };
    for (const reduction of Object.keys(want) as ChannelReduction[]) {
      const got = await expectNoLeak(() => {
        const s = toSaliencyMap(a, reduction);
        expect(s.shape).toEqual([2, 1, 2]);
        const v = Array.from(s.dataSync());
        s.dispose();
        return v;
      }, `toSaliencyMap '${reduction}'`);
      expect(got, reduction).toEqual(want[reduction]);
      expect(a.isDisposed, `'${reduction}' disposed its input`).toBe(false);
    }
    await expectNoLeak(() => toSaliencyMap(a), 'toSaliencyMap (default sum-abs)');
    await expectNoLeak(() => {
      expect(() => toSaliencyMap(a, 'nope' as ChannelReduction)).toThrow(ConfigError);
    }, 'toSaliencyMap with an unknown reduction');
    a.dispose();
  });
});
