/**
 * The model zoo by name (one name everywhere: `--model resnet-20` → MODELS.get('resnet-20') →
 * src/models/resnet-20.ts → `resnet20`). Every factory takes {@link ModelOptions}, seeds its
 * initialisers, and returns a {@link Classifier} whose outputs are logits.
 */
import type { Classifier } from './classifier.js';
import type { ModelOptions } from './_build.js';
import { mlp } from './mlp.js';
import { resnet18 } from './resnet-18.js';
import { resnet20 } from './resnet-20.js';
import { resnetPcam } from './resnet-pcam.js';
import { smallCnn } from './small-cnn.js';

/** A registered architecture. */
export interface ModelSpec {
  /** Display name. */
  readonly label: string;
  /** What it is meant for (input size, dataset). */
  readonly intendedFor: string;
  create(options: ModelOptions): Classifier;
}

export const MODELS: ReadonlyMap<string, ModelSpec> = new Map<string, ModelSpec>([
  ['mlp', { label: 'MLP (1 hidden layer)', intendedFor: 'any size; smoke tests', create: mlp }],
  ['small-cnn', { label: 'Small CNN', intendedFor: '28–32 px (MNIST, CIFAR-10)', create: smallCnn }],
  ['resnet-20', { label: 'ResNet-20', intendedFor: '32 px (CIFAR-10)', create: resnet20 }],
  ['resnet-pcam', { label: 'ResNet-18/2 (stride-2 stem)', intendedFor: '96 px (PCAM)', create: resnetPcam }],
  ['resnet-18', { label: 'ResNet-18', intendedFor: '224 px (ImageNet)', create: resnet18 }],
]);
