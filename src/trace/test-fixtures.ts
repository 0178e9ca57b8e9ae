/**
 * Synthetic but realistic traces for the tests of src/trace (not part of the public API).
 * Pure: no DOM, no Node.
 */
import { computeStats } from './stats.ts';
import { createBlobIdAllocator } from './ids.ts';
import { TRACE_FORMAT, TRACE_VERSION } from './types.ts';
import type { BlobData, KernelRecord, NodeRecord, TensorRecord, Trace } from './types.ts';

import { randn, rng } from './random.ts';

export { randn, rng };

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * A 6-node, 8-kernel trace in `tensors` mode: int32 image input, node names with `/`, `:`, spaces and
 * non-ASCII, an output with NaN and ±Inf, an all-NaN output, a stats-only output, a blob shared by the
 * last node and the model output, three clocks including `unavailable`, a kernel outside any node, and
 * every optional header field set.
 */
export function makeTrace(seed = 1): Trace {
  const blobs = new Map<string, BlobData>();
  const blobId = createBlobIdAllocator();
  const tensor = (name: string, k: number, shape: number[], data: BlobData | null, keep = true): TensorRecord => {
    const rec: TensorRecord = { shape, dtype: data instanceof Int32Array ? 'int32' : 'float32' };
    if (data === null) return rec;
    rec.stats = computeStats(data);
    if (keep) {
      const id = blobId(name, k);
      blobs.set(id, data);
      rec.blob = { id, encoding: data instanceof Int32Array ? 'int32' : 'float32', length: data.length };
    }
    return rec;
  };

  const r = rng(seed);
  const inputShape = [1, 8, 8, 3];
  const pixels = Int32Array.from({ length: size(inputShape) }, () => Math.floor(r() * 256));
  const input = { name: 'image:0', ...tensor('input:image:0', 0, inputShape, pixels) };

  const conv = randn(128, seed + 1, 2, 0.5);
  const dw = randn(128, seed + 2);
  dw[3] = NaN;
  dw[17] = Infinity;
  dw[99] = -Infinity;
  dw[5] = 0;
  dw[6] = -0;
  const pooled = randn(8, seed + 3, 0.1, 3);
  const logits = randn(10, seed + 4, 5);
  const allNan = new Float32Array([NaN, NaN]);
  const exp = logits.map((x) => Math.exp(x));
  const sum = exp.reduce((a, b) => a + b, 0);
  const probs = exp.map((x) => x / sum);

  const nodeSpecs: { name: string; op: string; kernels: number[]; shape: number[]; data: Float32Array; keep?: boolean; inputs: string[] }[] = [
    { name: 'StatefulPartitionedCall/model/conv1/Conv2D', op: 'FusedConv2D', kernels: [0], shape: [1, 4, 4, 8], data: conv, inputs: ['image'] },
    { name: 'model/block 1/dw:conv/Relu6', op: 'FusedDepthwiseConv2dNative', kernels: [1, 2], shape: [1, 4, 4, 8], data: dw, inputs: ['StatefulPartitionedCall/model/conv1/Conv2D'] },
    { name: 'model/pool/Mean', op: 'Mean', kernels: [3], shape: [1, 8], data: pooled, keep: false, inputs: ['model/block 1/dw:conv/Relu6'] },
    { name: 'model/dense/MatMul·Ωmega', op: 'MatMul', kernels: [4], shape: [1, 10], data: logits, inputs: ['model/pool/Mean'] },
    { name: 'model/aux/Log', op: 'Log', kernels: [], shape: [2], data: allNan, inputs: ['model/dense/MatMul·Ωmega'] },
    { name: 'Identity', op: 'Softmax', kernels: [5, 6], shape: [1, 10], data: probs, inputs: ['model/dense/MatMul·Ωmega'] },
  ];
  const nodes: NodeRecord[] = nodeSpecs.map((s, index) => ({
    index,
    name: s.name,
    op: s.op,
    kernels: s.kernels,
    outputs: [tensor(s.name, 0, s.shape, s.data, s.keep ?? true)],
    inputs: s.inputs,
  }));

  const kernelSpecs: [string, string | null, number | null, KernelRecord['clock'], (number[] | null)[], number[][]][] = [
    ['FusedConv2D', nodes[0]!.name, 0.412, 'gpu-timer-query', [[1, 8, 8, 3], [3, 3, 3, 8], null], [[1, 4, 4, 8]]],
    ['DepthwiseConv2dNative', nodes[1]!.name, 0.2, 'gpu-timer-query', [[1, 4, 4, 8], [3, 3, 8, 1]], [[1, 4, 4, 8]]],
    ['Relu6', nodes[1]!.name, 0.031, 'gpu-timer-query', [[1, 4, 4, 8]], [[1, 4, 4, 8]]],
    ['Mean', nodes[2]!.name, null, 'unavailable', [[1, 4, 4, 8], [2]], [[1, 8]]],
    ['MatMul', nodes[3]!.name, 0.0625, 'wall', [[1, 8], [8, 10]], [[1, 10]]],
    ['Max', nodes[5]!.name, 0.01, 'wall', [[1, 10]], [[1]]],
    ['Softmax', nodes[5]!.name, 0.125, 'wall', [[1, 10]], [[1, 10]]],
    ['ReadPixels', null, 1.5, 'wall-with-readback', [[1, 10]], [[1, 10]]],
  ];
  const kernels: KernelRecord[] = kernelSpecs.map(([name, node, ms, clock, inputShapes, outputShapes], index) => ({
    index,
    name,
    node,
    ms,
    clock,
    inputShapes,
    outputShapes,
  }));

  const lastOut = nodes[5]!.outputs[0]!;
  return {
    header: {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      id: '5b0c3f9e-3d1a-4c47-9d1e-7f3f0a1b2c3d',
      createdAt: '2025-03-14T09:26:53.589Z',
      label: 'pixel-7 / chrome 124',
      capture: 'tensors',
      model: {
        name: 'mobilenet-mini',
        format: 'tfjs-graph',
        sha256: 'a'.repeat(64),
        inputs: [{ name: 'image', shape: [null, 8, 8, 3], dtype: 'int32' }],
        outputs: [{ name: 'Identity:0', shape: [null, 10], dtype: 'float32' }],
        nodeCount: 7,
      },
      runtime: { name: 'tfjs', version: '4.22.0', backend: 'webgl' },
      environment: {
        kind: 'browser',
        userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 7) Chrome/124.0',
        platform: 'Linux armv8l',
        hardwareConcurrency: 8,
        threads: 4,
        crossOriginIsolated: true,
        floatPrecision: 16,
        flags: { WEBGL_PACK: true, WEBGL_VERSION: 2, WEBGL_FORCE_F16_TEXTURES: 'auto' },
        webgl: { version: 2, vendor: 'ARM', renderer: 'Mali-G710', maxTextureSize: 8192, floatTextures: false },
        webgpu: {
          vendor: 'arm',
          architecture: 'valhall',
          description: '',
          isFallbackAdapter: false,
          features: ['timestamp-query', 'shader-f16'],
          limits: { maxBufferSize: 268435456, maxComputeWorkgroupSizeX: 256 },
        },
      },
      input: {
        tensors: [input],
        source: { fileName: 'cat.jpg', sha256: 'b'.repeat(64), width: 640, height: 480, exifOrientation: 6, mimeType: 'image/jpeg' },
        preprocess: {
          width: 8,
          height: 8,
          resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false },
          fit: 'center-crop',
          channels: 'rgb',
          layout: 'nhwc',
          scale: 1,
          mean: [0, 0, 0],
          std: [1, 1, 1],
          dtype: 'int32',
          exif: 'apply',
          alpha: 'ignore',
          grayWeights: [0.299, 0.587, 0.114],
        },
      },
      timing: { warmupRuns: 2, runMs: [12.5, 11.75, 12.25], medianMs: 12.25, firstRunMs: 250.5 },
      nodes,
      kernels,
      outputs: [{ name: 'Identity:0', ...lastOut }],
      warnings: ['backend webgl: some kernel times are unavailable (clock \'unavailable\')'],
      referenceFor: '0e2c9a1f-1111-4222-8333-944455556666',
    },
    blobs,
  };
}
