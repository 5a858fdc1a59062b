// Datasets: loaders that yield batches {x, y, index, shape, mask?} of plain typed arrays (x NHWC
// float32 in [0, 1]) in bounded memory, with seeded order and augmentation; format detection and
// named datasets (registry.ts); the synthetic ground-truth set. Normalisation is not here (it is
// part of the model), and nothing here creates tensors except `toTensors`.
export type { Batch, BatchOptions, Dataset, DatasetInfo } from './dataset.js';
export { toTensors } from './dataset.js';
export { epochOrder, countBatches } from './epoch-order.js';
export type { EpochOrderOptions } from './epoch-order.js';
export { stratifiedSubset, classHistogram, drawSubset } from './subset.js';
export type { SubsetInfo } from './subset.js';
export { NO_AUGMENTATION, drawAugmentation, applyAugmentation, augmentationSource, resizeBilinear, centerCrop, resizedShape } from './transforms.js';
export type { Augmentation, AugmentDraw } from './transforms.js';
export { openIdx, parseIdxHeader } from './idx.js';
export type { IdxOptions, IdxHeader } from './idx.js';
export { openMnist, openFashionMnist, openIdxFolder, embeddedMnistDir, FASHION_MNIST_CLASSES, MNIST_AUGMENTATION } from './mnist.js';
export type { MnistOptions } from './mnist.js';
export { openCifarBin, CIFAR10_CLASSES, CIFAR_AUGMENTATION, CIFAR_RECORD_BYTES } from './cifar-bin.js';
export type { CifarBinOptions } from './cifar-bin.js';
export { openImageFolder, listImageFolder, imageFolderSplits } from './image-folder.js';
export type { ImageFolderOptions } from './image-folder.js';
export { defaultCacheDir, readDecodedCacheHeader } from './decoded-cache.js';
export type { DecodedCacheHeader } from './decoded-cache.js';
export { openPcam, PCAM_CLASSES, PCAM_SPLITS } from './pcam.js';
export type { PcamOptions } from './pcam.js';
export { openSynthetic, renderSyntheticSample, resolveSyntheticOptions, syntheticLabel, SYNTHETIC_CLASSES } from './synthetic.js';
export type { SyntheticOptions, ResolvedSyntheticOptions } from './synthetic.js';
export { DATASETS, openDataset, detectFormat, availableSplits, parseDataSource, cifar10JpgPath } from './registry.js';
export type { OpenDatasetOptions, DatasetSpec, DatasetFormat } from './registry.js';
export { inspectDataset, formatSummary, verifyDataset, formatVerify } from './inspect.js';
export type { DatasetSummary, VerifyReport } from './inspect.js';
