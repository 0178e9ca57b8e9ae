/**
 * The steps of a diagnosis against the original photo that the CLI and the page share (photo.ts):
 * the spec's origin, the sha256 warnings, weight storage, and the input search + canonical input of
 * `fitEdgeInput` on a procedural photo. End to end (CLI vs page on the same files):
 * e2e/diagnose-page.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import { preprocess } from '../preprocess/pipeline.ts';
import type { InputSource, PreprocessSpec, Trace } from '../trace/types.ts';
import { fitEdgeInput, modelMismatchWarning, photoMismatchWarning, photoSpec, weightStorageOf, type EdgeInputRecord } from './photo.ts';
import { mobilenetSpec, syntheticPhoto } from './test-images.ts';

const SPEC: PreprocessSpec = mobilenetSpec(64);
const SOURCE: InputSource = { fileName: 'p.png', sha256: 'a'.repeat(64), width: 160, height: 120, exifOrientation: 1, mimeType: 'image/png' };
const image = syntheticPhoto(160, 120);

function edgeFed(spec: PreprocessSpec, recorded?: PreprocessSpec): EdgeInputRecord {
  const t = preprocess(image, 1, spec);
  return {
    header: { input: { tensors: [{ name: 'input_1', shape: t.shape, dtype: 'float32', blob: { id: 'in' } }], source: SOURCE, ...(recorded ? { preprocess: recorded } : {}) } },
    blobs: new Map([['in', t.data]]),
  } as unknown as EdgeInputRecord;
}

describe('photo diagnosis steps', () => {
  it('the spec: the trace\'s recorded one, else the card\'s image input', () => {
    const card = { inputs: [{ kind: 'image', preprocess: { ...SPEC, width: 32 } }] };
    expect(photoSpec(edgeFed(SPEC, SPEC) as unknown as Trace, card)).toEqual(SPEC);
    expect(photoSpec(edgeFed(SPEC) as unknown as Trace, card)?.width).toBe(32);
    expect(photoSpec(edgeFed(SPEC) as unknown as Trace, null)).toBeNull();
  });

  it('BGR in [0,255]: channel-order + normalization, and the canonical input is the card\'s pipeline', () => {
    const r = fitEdgeInput(edgeFed({ ...SPEC, channels: 'bgr', scale: 1 }), 'edge.exray', { image, source: SOURCE }, SPEC);
    expect(r.input?.causes.map((c) => c.code).sort()).toEqual(['channel-order', 'normalization']);
    expect(r.input?.causes.find((c) => c.code === 'normalization')?.detail).toMatch(/^given \[0, 255\], expected \[0, 1\]/);
    expect(r.warnings).toEqual([]);
    const canonical = preprocess(image, 1, SPEC);
    expect(r.canonical.name).toBe('input_1');
    expect(r.canonical.shape).toEqual(canonical.shape);
    expect(Array.from(r.canonical.data)).toEqual(Array.from(canonical.data));
  });

  it('a clean input matches; another file is flagged by its sha256', () => {
    const r = fitEdgeInput(edgeFed(SPEC), 'edge.exray', { image, source: { ...SOURCE, sha256: 'b'.repeat(64), fileName: 'other.png' } }, SPEC);
    expect(r.input?.matches).toBe(true);
    expect(r.input?.causes).toEqual([]);
    expect(r.warnings).toEqual(['the photo (other.png) is not the file the edge trace recorded (sha256 differs)']);
    expect(photoMismatchWarning(edgeFed(SPEC), SOURCE)).toBeNull();
  });

  it('a trace without input values or with several inputs is refused with the file named', () => {
    const e = edgeFed(SPEC);
    expect(() => fitEdgeInput({ ...e, blobs: new Map() }, 'edge.exray', { image, source: SOURCE }, SPEC)).toThrow(/^edge\.exray: input "input_1" has no recorded values/);
    const two = { ...e, header: { input: { ...e.header.input, tensors: [...e.header.input.tensors, ...e.header.input.tensors] } } };
    expect(() => fitEdgeInput(two, 'edge.exray', { image, source: SOURCE }, SPEC)).toThrow(/single-input model, the trace has 2 inputs/);
  });

  it('model sha256 warning and weight storage', () => {
    const edge = { header: { model: { sha256: '1'.repeat(64) } } } as unknown as Trace;
    expect(modelMismatchWarning(edge, 'models/x', '1'.repeat(64))).toBeNull();
    expect(modelMismatchWarning(edge, 'models/x', '2'.repeat(64))).toBe(
      'the reference model (models/x, sha256 222222222222…) is not the model the edge ran (111111111111…): node differences include the weight differences',
    );
    const w = weightStorageOf([{ weights: [{ dtype: 'float32', quantization: { dtype: 'uint8' } }, { dtype: 'float32' }] }, { weights: [{ dtype: 'int32' }] }]);
    expect(w).toEqual({ dtypes: { uint8: 1, float32: 1, int32: 1 }, total: 3 });
  });
});
