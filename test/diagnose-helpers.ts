/**
 * Shared set-up for the diagnosis tests on real models and photos: "edge" traces whose input was made
 * by a deliberately wrong pipeline (the canonical step functions with one step swapped), traced with
 * traceInNode on wasm, recording the card's spec as a real deployment would.
 */
import { join } from 'node:path';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import type { DecodedImage } from '../src/preprocess/image.ts';
import { preprocess, type PreprocessResult } from '../src/preprocess/pipeline.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import type { PreprocessSpec, Trace } from '../src/trace/types.ts';
import { decoderNoise } from '../src/diagnose/test-images.ts';
import { card, MODELS, SAMPLES } from './helpers.ts';

export interface EdgeOptions {
  model: string;
  photo: string;
  /** Steps the edge does differently from the card. */
  wrong?: Partial<PreprocessSpec>;
  /** Rewrite the tensor after the (wrong) pipeline, e.g. a reshape instead of a transpose. */
  after?: (t: PreprocessResult, spec: PreprocessSpec) => { data: Float32Array | Int32Array; shape: number[] };
  /** ±1 level decoder noise on the photo (another JPEG decoder). */
  noise?: boolean;
}

export interface EdgeCase {
  edge: Trace;
  photo: string;
  decoded: DecodedImage;
  spec: PreprocessSpec;
}

export async function edgeCase(o: EdgeOptions): Promise<EdgeCase> {
  const c = await card(o.model);
  const input = c.inputs[0]!;
  const spec = input.preprocess!;
  const photo = join(SAMPLES, o.photo);
  const decoded = await decodeImageFile(photo);
  const img = o.noise ? decoderNoise(decoded.image) : decoded.image;
  const wrongSpec = { ...spec, ...(o.wrong ?? {}) };
  let t: { data: Float32Array | Int32Array; shape: number[] } = preprocess(img, decoded.source.exifOrientation, wrongSpec);
  if (o.after) t = o.after(t as PreprocessResult, spec);
  const edge = await traceInNode({
    model: join(MODELS, o.model),
    backend: 'wasm',
    feed: [{ name: input.name, shape: t.shape, dtype: spec.dtype === 'float32' ? 'float32' : 'int32', data: t.data }],
    feedFile: o.photo,
    runs: 1,
    warmup: 0,
    source: decoded.source,
    preprocess: spec,
    label: 'edge',
  });
  return { edge, photo, decoded, spec };
}

/** The (NHWC) tensor transposed to NCHW memory order but kept in the NHWC shape: a reshape instead of a transpose. */
export function nchwAsNhwc(t: { data: Float32Array | Int32Array }, spec: PreprocessSpec): { data: Float32Array | Int32Array; shape: number[] } {
  const C = spec.channels === 'grayscale' ? 1 : 3;
  const n = spec.width * spec.height;
  const out = t.data instanceof Int32Array ? new Int32Array(t.data.length) : new Float32Array(t.data.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) out[c * n + i] = t.data[i * C + c] as number;
  return { data: out, shape: [1, spec.height, spec.width, C] };
}
