/**
 * Regular training: L = CE(f(x), y), model in training mode. The baseline every saliency and
 * robustness number is compared against.
 */
import * as tf from '@tensorflow/tfjs';
import type { Trainer } from './types.js';
import { accuracy, crossEntropy, minimizeKeeping, oneHot } from './_loss.js';

/** Options of the 'regular' trainer (none). */
export const REGULAR_DEFAULTS: Readonly<Record<string, never>> = Object.freeze({});

export function regularTrainer(): Trainer {
  return {
    name: 'regular',
    step({ x, y }, { classifier, optimizer }) {
      const onehot = oneHot(y, classifier.numClasses);
      const { loss, kept } = minimizeKeeping(optimizer, classifier.trainableVariables(), (keep) =>
        crossEntropy(onehot, keep(classifier.logits(x, { training: true }))),
      );
      const acc = accuracy(kept[0]!, y);
      tf.dispose([onehot, ...kept]);
      return { loss, acc };
    },
  };
}
