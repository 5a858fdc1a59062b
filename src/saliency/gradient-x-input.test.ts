import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, it } from 'vitest';
import { expectClose, useBackend } from '../../test/helpers/index.js';
import { gradientXInput } from './gradient-x-input.js';
import { integratedGradients } from './integrated-gradients.js';
import { asClassifier, randomImages } from './_testing.js';

beforeAll(() => useBackend('cpu'));

describe('gradientXInput', () => {
  it('equals x ⊙ W[:, c], which is also IG with a black baseline, for a linear model without bias', () => {
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [3, 2, 2] }), tf.layers.dense({ units: 3, useBias: false, kernelInitializer: tf.initializers.randomNormal({ seed: 4 }) })],
    });
    const clf = asClassifier(model, 3);
    const x = randomImages([2, 3, 2, 2], 15);
    const y = tf.tensor1d([2, 1], 'int32');
    const W = (model.getWeights()[0] as tf.Tensor2D).arraySync();
    const xs = x.reshape([2, -1]).arraySync() as number[][];
    const gxi = gradientXInput()(clf, x, y);
    const ig = integratedGradients({ steps: 2 })(clf, x, y);
    const got = gxi.reshape([2, -1]).arraySync() as number[][];
    [2, 1].forEach((c, b) => expectClose(got[b]!, xs[b]!.map((v, i) => v * W[i]![c]!), { label: `image ${b}` }));
    expectClose(ig.dataSync(), gxi.dataSync(), { rtol: 1e-5, label: 'IG = G×I' });
    tf.dispose([x, y, gxi, ig]);
    model.dispose();
  });
});
