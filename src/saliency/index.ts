// Public API of the saliency room (re-exports only).
// Saliency methods turn (classifier, images, target classes) into attributions of the images'
// shape, and reduce them to per-pixel maps. They do not choose masks or attack (attacks/, scaat/)
// and do not score maps (metrics/ receives saliency functions by injection).
export type { SaliencyFn, SaliencyCallOptions, SaliencySpec, TargetMode } from './types.js';
export { TARGET_MODES } from './types.js';
export { vanillaGradient, predictedClass, resolveTarget } from './vanilla-gradient.js';
export type { VanillaGradientOptions } from './vanilla-gradient.js';
export { smoothGrad } from './smooth-grad.js';
export type { SmoothGradOptions } from './smooth-grad.js';
export { integratedGradients, integratedGradientsGap, riemannNodes, baselineValue, RIEMANN_RULES } from './integrated-gradients.js';
export type { IntegratedGradientsOptions, RiemannRule, Baseline } from './integrated-gradients.js';
export { gradientXInput } from './gradient-x-input.js';
export type { GradientXInputOptions } from './gradient-x-input.js';
export { toSaliencyMap, CHANNEL_REDUCTIONS } from './postprocess.js';
export type { ChannelReduction } from './postprocess.js';
export { SALIENCY, getSaliency, saliencyMethods } from './registry.js';
export type { ResolvedSaliency } from './registry.js';
