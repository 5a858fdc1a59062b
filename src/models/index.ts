// Models: the Classifier contract and its LayersModel adapter, the model zoo (registry.ts), and
// save/load in the standard TF.js format. Models know nothing of training: optimizers,
// checkpoints of a run and per-sample state live in `train/`. Public API (re-exports only).
export type { Classifier, FromLayersModelOptions } from './classifier.js';
export { fromLayersModel, layerVariables } from './classifier.js';
export { fileSystem, saveClassifier, loadClassifier, loadModel, modelWeightsSha256, resolveModelDir, MODEL_JSON, WEIGHTS_BIN, RUN_LAYOUT } from './io.js';
export type { LoadedModel, ModelWeights } from './io.js';
export { ChannelNormalization, registerCustomLayers } from './layers.js';
export type { ChannelNormalizationArgs } from './layers.js';
export { MODELS } from './registry.js';
export type { ModelSpec } from './registry.js';
export type { ModelOptions } from './_build.js';
export { mlp } from './mlp.js';
export { smallCnn } from './small-cnn.js';
export { resnet20 } from './resnet-20.js';
export { resnetPcam } from './resnet-pcam.js';
export { resnet18 } from './resnet-18.js';
