/**
 * The pure (browser- and Node-safe) part of the canonical pre-processing. Decoders are imported from
 * their own modules: `./decode-node.ts` (sharp, Node only) and `./decode-browser.ts` (DOM only).
 */
export * from './image.ts';
export * from './orientation.ts';
export * from './resize.ts';
export { areaSpans, kernelSpans, KEYS_CUBIC, LANCZOS3, resampleSeparable, TRIANGLE, triangleSpans, type Kernel, type Spans } from './resample.ts';
export * from './geometry.ts';
export * from './normalize.ts';
export * from './pipeline.ts';
export * from './exif.ts';
