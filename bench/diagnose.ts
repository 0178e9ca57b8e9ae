/**
 * Diagnosis benchmark: detection rate over an injected-bug suite, false alarms on clean runs, and the
 * wall time of a whole diagnosis of a MobileNet-sized model on the cpu reference backend.
 *
 * - Input suite (the input search alone; real photos × sample-model cards × wrong pipelines): a case
 *   counts as detected when the reported input causes are exactly the injected ones. Injections that
 *   do not change the tensor (BGR on a gray photo, crop on a square one) are skipped.
 * - Clean suite: the same photos and cards with ±1 decoder noise; any cause is a false alarm.
 * - Node suite (end to end, traces on wasm): a perturbed convolution per TF.js model (kernel), an
 *   edited node attribute in two ONNX models (kernel, reference onnxruntime-node), uint8 variants of the
 *   float models (quantization), clean runs (none).
 * - Timing: `runDiagnosis` of MobileNetV2 (nsfw-mobilenet-v2) with the photo, reference on TF.js cpu.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runDiagnosis } from '../src/cli/commands/diagnose.ts';
import { fitInput, type CauseCode, type Diagnosis } from '../src/diagnose/index.ts';
import { decoderNoise } from '../src/diagnose/test-images.ts';
import type { InputSearchOptions } from '../src/diagnose/input-search-types.ts';
import { loadModelCard } from '../src/models/card.ts';
import { writeVariant } from '../src/models/variants.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import type { DecodedImage } from '../src/preprocess/image.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import type { PreprocessSpec, Trace } from '../src/trace/types.ts';
import { editedOnnxEdge, perturbedConvEdge, setOnnxAttribute } from '../test/diagnose-helpers.ts';
import type { BenchResult } from './types.ts';
import { benchDecoderAndTwoTone } from './diagnose-decoder.ts';

const MODELS = 'models';
const SAMPLES = 'public/samples';

/** One wrong step: the cause it should produce and the spec change (null: not applicable to this card). */
interface Part {
  code: CauseCode;
  wrong: (spec: PreprocessSpec) => Partial<PreprocessSpec> | null;
  /** Memory-order bug: NCHW data in the NHWC shape (no spec change). */
  reshape?: boolean;
  /** Channel permutation applied to the tensor afterwards (model channel k takes channel permute[k]). */
  permute?: readonly number[];
  /** Height and width swapped afterwards (square inputs). */
  transpose?: boolean;
  /** A map of the photo's RGB levels before pre-processing (a camera frame's YUV range mix-up). */
  pixels?: (p: number) => number;
}

interface Injection {
  name: string;
  parts: Part[];
}

const NEAREST = { method: 'nearest', alignCorners: false, halfPixelCenters: false, antialias: false } as const;
const HPC = { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false } as const;
const swapGray = (s: PreprocessSpec): Partial<PreprocessSpec> => {
  const w = s.grayWeights ?? [0.299, 0.587, 0.114];
  return { grayWeights: [w[2], w[1], w[0]] };
};
const BGR: Part = { code: 'channel-order', wrong: (s) => (s.channels === 'grayscale' ? swapGray(s) : { channels: 'bgr' }) };
const RANGE: Part = {
  code: 'normalization',
  wrong: (s) => {
    if (s.dtype !== 'float32') return null;
    // Whatever the card says, feed [0, 1] — or [-1, 1] when the card already says [0, 1].
    const zeroOne = s.scale === 1 / 255 && s.mean.every((m) => m === 0) && s.std.every((x) => x === 1);
    return zeroOne ? { scale: 1 / 127.5, mean: [1], std: [1] } : { scale: 1 / 255, mean: [0], std: [1] };
  },
};
const RANGE_255: Part = {
  code: 'normalization',
  wrong: (s) => (s.dtype !== 'float32' || (s.scale === 1 && s.mean.every((m) => m === 0)) ? null : { scale: 1, mean: [0], std: [1] }),
};
const EXIF: Part = { code: 'orientation', wrong: () => ({ exif: 'ignore' }) };
const AREA: Part = { code: 'resize', wrong: (s) => (s.resize.method === 'area' ? null : { resize: { method: 'area', alignCorners: false, halfPixelCenters: false, antialias: false } }) };
const ANTIALIAS: Part = { code: 'resize', wrong: (s) => (s.resize.antialias ? null : { resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: true } }) };
const ALIGN_CORNERS: Part = {
  code: 'resize',
  wrong: (s) => ({ resize: s.resize.alignCorners ? { ...s.resize, alignCorners: false } : { ...s.resize, alignCorners: true, halfPixelCenters: false } }),
};
/** G, R, B: a channel permutation that is not a plain RGB/BGR swap (no spec change: permuted afterwards). */
const GRB: Part = { code: 'channel-order', wrong: (s) => (s.channels === 'grayscale' ? null : {}), permute: [1, 0, 2] };
const NEAREST_PART: Part = { code: 'resize', wrong: (s) => (s.resize.method === 'nearest' ? null : { resize: NEAREST }) };

const INJECTIONS: Injection[] = [
  { name: 'channel order', parts: [BGR] },
  { name: 'normalisation', parts: [RANGE] },
  { name: 'EXIF ignored', parts: [EXIF] },
  // The other memory order in the model's shape: NCHW data for an NHWC model, NHWC data for an NCHW one.
  { name: 'memory order', parts: [{ code: 'layout', wrong: (s) => (s.channels === 'grayscale' ? null : s.layout === 'nchw' ? { layout: 'nhwc' } : {}), reshape: true }] },
  { name: 'nearest', parts: [NEAREST_PART] },
  { name: 'half-pixel', parts: [{ code: 'resize', wrong: (s) => (s.resize.halfPixelCenters ? null : { resize: HPC }) }] },
  { name: 'center crop', parts: [{ code: 'resize', wrong: (s) => (s.fit === 'center-crop' ? null : { fit: 'center-crop' }) }] },
  { name: 'premultiplied alpha', parts: [{ code: 'alpha', wrong: () => ({ alpha: 'premultiply' }) }] },
  { name: 'BGR + range', parts: [BGR, RANGE] },
  { name: 'EXIF + nearest + BGR', parts: [EXIF, NEAREST_PART, BGR] },
  { name: '[0,255]', parts: [RANGE_255] },
  { name: 'area', parts: [AREA] },
  { name: 'antialias', parts: [ANTIALIAS] },
  { name: 'align-corners flipped', parts: [ALIGN_CORNERS] },
  { name: 'G,R,B order', parts: [GRB] },
  { name: 'letterbox', parts: [{ code: 'resize', wrong: (s) => (s.fit === 'letterbox' ? { fit: 'stretch' } : { fit: 'letterbox' }) }] },
  { name: 'crop + BGR + [0,255]', parts: [{ code: 'resize', wrong: (s) => (s.fit === 'center-crop' ? null : { fit: 'center-crop' }) }, BGR, RANGE_255] },
  { name: 'area + EXIF + range', parts: [AREA, EXIF, RANGE] },
  { name: 'EXIF + BGR + [0,255] + nearest', parts: [EXIF, BGR, RANGE_255, NEAREST_PART] },
  { name: 'H/W transposed', parts: [{ code: 'layout', wrong: (s) => (s.width === s.height ? {} : null), transpose: true }] },
];

/** A camera frame converted from YUV with the other range's formula (rounded and clipped as a converter does). */
const LIMITED_AS_FULL: Part = { code: 'camera-range', wrong: () => ({}), pixels: (p) => Math.round(16 + (219 / 255) * p) };
const FULL_AS_LIMITED: Part = { code: 'camera-range', wrong: () => ({}), pixels: (p) => Math.min(255, Math.max(0, Math.round(((p - 16) * 255) / 219))) };
INJECTIONS.push(
  { name: 'camera: limited range as full', parts: [LIMITED_AS_FULL] },
  { name: 'camera: full range as limited', parts: [FULL_AS_LIMITED] },
  { name: 'camera: limited as full + EXIF', parts: [LIMITED_AS_FULL, EXIF] },
);

function mapPixels(img: DecodedImage['image'], f: (p: number) => number): DecodedImage['image'] {
  const data = new Uint8ClampedArray(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? img.data[i]! : f(img.data[i]!);
  return { width: img.width, height: img.height, data };
}

const CARDS = ['nsfw-mobilenet-v2', 'blazeface', 'emotion', 'movenet-lightning', 'centernet', 'ppocr-mobile-v2-cls', 'handtrack'];
const PHOTOS = ['chelsea.png', 'chelsea_exif6.jpg', 'rocket_exif8.jpg', 'coffee_exif3.jpg', 'coffee_alpha.png', 'flower.jpg', 'starry_night.jpg', 'page.png'];

function permuteChannels(data: Float32Array | Int32Array, spec: PreprocessSpec, p: readonly number[]): Float32Array | Int32Array {
  const n = spec.width * spec.height;
  const out = data.slice();
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      if (spec.layout === 'nhwc') out[i * 3 + c] = data[i * 3 + p[c]!] as number;
      else out[c * n + i] = data[p[c]! * n + i] as number;
    }
  }
  return out;
}

function transposeHW(data: Float32Array | Int32Array, spec: PreprocessSpec): Float32Array | Int32Array {
  const { width: W, height: H } = spec;
  const C = spec.channels === 'grayscale' ? 1 : 3;
  const out = data.slice();
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        if (spec.layout === 'nhwc') out[(x * W + y) * C + c] = data[(y * W + x) * C + c] as number;
        else out[c * H * W + x * W + y] = data[c * H * W + y * W + x] as number;
      }
    }
  }
  return out;
}

function reshapeNchw(data: Float32Array | Int32Array, spec: PreprocessSpec): Float32Array | Int32Array {
  const n = spec.width * spec.height;
  const out = data instanceof Int32Array ? new Int32Array(data.length) : new Float32Array(data.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = data[i * 3 + c] as number;
  return out;
}

function maxLevels(a: Float32Array | Int32Array, b: Float32Array | Int32Array, spec: PreprocessSpec): number {
  const k = spec.scale / (spec.std[0] ?? 1);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m / Math.abs(k);
}

export async function inputSuite(options: InputSearchOptions = {}): Promise<{ cases: number; detected: number; clean: number; falseAlarms: number; misses: string[]; medianMs: number; camera: { cases: number; detected: number } }> {
  const camera = { cases: 0, detected: 0 };
  const photos = new Map<string, DecodedImage>();
  for (const p of PHOTOS) photos.set(p, await decodeImageFile(join(SAMPLES, p)));
  let cases = 0;
  let detected = 0;
  let clean = 0;
  let falseAlarms = 0;
  const misses: string[] = [];
  const times: number[] = [];
  for (const name of CARDS) {
    const spec = (await loadModelCard(join(MODELS, name, 'exray.json'))).inputs[0]!.preprocess!;
    for (const [photo, d] of photos) {
      const o = d.source.exifOrientation;
      const canonical = preprocess(d.image, o, spec);
      // Clean, with decoder noise.
      const noisy = preprocess(decoderNoise(d.image), o, spec);
      const f0 = fitInput({ image: d.image, orientation: o, spec, edge: { data: noisy.data, shape: noisy.shape } }, options);
      clean++;
      if (f0.causes.length > 0) {
        falseAlarms++;
        misses.push(`false alarm ${name} × ${photo}: ${f0.causes.map((c) => c.code).join(', ')}`);
      }
      for (const inj of INJECTIONS) {
        const wrongs = inj.parts.map((p) => p.wrong(spec));
        if (wrongs.some((w) => w === null)) continue;
        const make = (parts: Part[], ws: Partial<PreprocessSpec>[]): { data: Float32Array | Int32Array; shape: number[] } => {
          const px = parts.find((p) => p.pixels)?.pixels;
          const t = preprocess(px ? mapPixels(d.image, px) : d.image, o, Object.assign({ ...spec }, ...ws) as PreprocessSpec);
          let data = t.data;
          for (const p of parts) if (p.permute) data = permuteChannels(data, spec, p.permute);
          if (parts.some((p) => p.transpose)) data = transposeHW(data, spec);
          if (!parts.some((p) => p.reshape)) return { data, shape: t.shape };
          // NHWC card: NCHW values, NHWC shape. NCHW card: made NHWC by the spec change, shape kept NCHW.
          return spec.layout === 'nhwc' ? { data: reshapeNchw(data, spec), shape: t.shape } : { data, shape: [1, 3, spec.height, spec.width] };
        };
        const edge = make(inj.parts, wrongs as Partial<PreprocessSpec>[]);
        // Expected: the parts that change the tensor on their own, on this photo (EXIF on an upright photo does not).
        const expected = [...new Set(inj.parts.filter((p, i) => maxLevels(make([p], [wrongs[i]!]).data, canonical.data, spec) >= 0.5).map((p) => p.code))].sort();
        if (expected.length === 0) continue;
        cases++;
        const t0 = performance.now();
        const f = fitInput({ image: d.image, orientation: o, spec, edge }, options);
        times.push(performance.now() - t0);
        const got = f.causes.map((c) => c.code).sort();
        const hit = JSON.stringify(got) === JSON.stringify(expected);
        if (hit) detected++;
        else misses.push(`${name} × ${photo} × ${inj.name}: expected [${expected.join(', ')}], got [${got.join(', ')}]`);
        if (expected.includes('camera-range')) {
          camera.cases++;
          if (hit) camera.detected++;
        }
      }
    }
  }
  times.sort((a, b) => a - b);
  return { cases, detected, clean, falseAlarms, misses, medianMs: times[times.length >> 1] ?? 0, camera };
}

async function plainTrace(dir: string, name: string, photo: DecodedImage): Promise<Trace> {
  const input = (await loadModelCard(join(MODELS, name, 'exray.json'))).inputs[0]!;
  const t = preprocess(photo.image, photo.source.exifOrientation, input.preprocess!);
  return traceInNode({ model: dir, backend: 'wasm', feed: [{ name: input.name, shape: t.shape, dtype: t.dtype, data: t.data }], feedFile: 'bench', runs: 1, warmup: 0, source: photo.source, preprocess: input.preprocess!, modelName: name });
}

async function nodeSuite(): Promise<{ cases: number; detected: number; clean: number; falseAlarms: number; misses: string[] }> {
  const tmp = mkdtempSync(join(tmpdir(), 'exray-bench-diag-'));
  let cases = 0;
  let detected = 0;
  let clean = 0;
  let falseAlarms = 0;
  const misses: string[] = [];
  const check = (label: string, d: Diagnosis, want: CauseCode, node?: string): void => {
    cases++;
    const c = d.causes[0];
    if (c?.code === want && (node === undefined || c.node === node)) detected++;
    else misses.push(`${label}: got ${d.causes.map((x) => `${x.code}${x.node ? `@${x.node}` : ''}`).join(', ')}`);
  };
  for (const [name, photo] of [
    ['nsfw-mobilenet-v2', 'chelsea.png'],
    ['nsfw-mobilenet-v2-mid', 'flower.jpg'],
    ['blazeface', 'astronaut.png'],
    ['emotion', 'coffee_exif3.jpg'],
  ] as const) {
    const decoded = await decodeImageFile(join(SAMPLES, photo));
    const { edge, target } = await perturbedConvEdge(name, decoded);
    check(`kernel ${name}`, (await runDiagnosis({ edge, image: decoded, model: join(MODELS, name), backend: 'wasm' })).diagnosis, 'kernel', target);
    const d0 = (await runDiagnosis({ edge: await plainTrace(join(MODELS, name), name, decoded), image: decoded, model: join(MODELS, name), backend: 'cpu', maxReplay: 8 })).diagnosis;
    clean++;
    if (d0.causes.some((c) => c.code !== 'none')) {
      falseAlarms++;
      misses.push(`false alarm ${name}: ${d0.summary}`);
    }
  }
  // ONNX: one node's attribute edited in the edge's copy (same inputs, different kernel result),
  // recorded under the original model's identity; and the unedited model (none).
  for (const [name, photo, node, attr, value] of [
    ['ppocr-mobile-v2-cls', 'chelsea.png', 'p2o.HardSigmoid.4', 'alpha', 0.3],
    ['ppocr-v4-rec', 'page_line1.png', 'p2o.Conv.9', 'pads', [2, 2, 0, 0]],
  ] as const) {
    const decoded = await decodeImageFile(join(SAMPLES, photo));
    const dir = join(MODELS, name);
    const edited = await editedOnnxEdge(name, decoded, (m) => setOnnxAttribute(m, node, attr, value));
    check(`kernel ${name}`, (await runDiagnosis({ edge: edited, image: decoded, model: dir, backend: 'cpu' })).diagnosis, 'kernel', node);
    const d0 = (await runDiagnosis({ edge: await editedOnnxEdge(name, decoded, (m) => m), image: decoded, model: dir, backend: 'cpu' })).diagnosis;
    clean++;
    if (d0.causes.some((c) => c.code !== 'none')) {
      falseAlarms++;
      misses.push(`false alarm ${name}: ${d0.summary}`);
    }
  }
  for (const [name, photo] of [
    ['blazeface', 'rocket.jpg'],
    ['emotion', 'chelsea.png'],
  ] as const) {
    const dir = join(tmp, `${name}-uint8`);
    await writeVariant(join(MODELS, name), 'uint8', dir);
    const decoded = await decodeImageFile(join(SAMPLES, photo));
    check(`quantization ${name}`, (await runDiagnosis({ edge: await plainTrace(dir, name, decoded), image: decoded, model: join(MODELS, name), edgeModel: dir, backend: 'wasm' })).diagnosis, 'quantization');
  }
  return { cases, detected, clean, falseAlarms, misses };
}

async function timing(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const name = 'nsfw-mobilenet-v2';
  for (const [label, photo, wrong] of [
    ['clean', 'chelsea.png', {}],
    ['BGR + [0,255], EXIF 6 ignored', 'chelsea_exif6.jpg', { channels: 'bgr', scale: 1, exif: 'ignore' }],
  ] as const) {
    const decoded = await decodeImageFile(join(SAMPLES, photo));
    const input = (await loadModelCard(join(MODELS, name, 'exray.json'))).inputs[0]!;
    const t = preprocess(decoded.image, decoded.source.exifOrientation, { ...input.preprocess!, ...(wrong as Partial<PreprocessSpec>) });
    const edge = await traceInNode({ model: join(MODELS, name), backend: 'wasm', feed: [{ name: input.name, shape: t.shape, dtype: 'float32', data: t.data }], feedFile: photo, runs: 1, warmup: 0, source: decoded.source, preprocess: input.preprocess! });
    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      await runDiagnosis({ edge, image: join(SAMPLES, photo), backend: 'cpu' });
      times.push(performance.now() - t0);
    }
    out.push({ name: `diagnose wall time, MobileNetV2 (${name}), cpu reference, ${label}`, value: Math.min(...times), unit: 'ms' });
  }
  return out;
}

export async function benchDiagnose(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const input = await inputSuite();
  results.push({ name: `diagnosis detection rate, injected input bugs (${input.cases} cases: ${CARDS.length} cards × ${PHOTOS.length} photos)`, value: (100 * input.detected) / input.cases, unit: '%' });
  results.push({ name: `diagnosis false alarms, clean inputs with ±1 decoder noise (${input.clean} cases)`, value: input.falseAlarms, unit: 'count' });
  results.push({ name: `diagnosis detection rate, camera-range (YUV limited/full range mix-ups, ${input.camera.cases} cases)`, value: input.camera.cases ? (100 * input.camera.detected) / input.camera.cases : 0, unit: '%' });
  results.push({ name: 'input search time, median per case', value: input.medianMs, unit: 'ms' });
  results.push(...(await benchColourProfile()));
  const nodes = await nodeSuite();
  results.push({ name: `diagnosis detection rate, injected kernel/quantization bugs end to end (${nodes.cases} cases)`, value: (100 * nodes.detected) / nodes.cases, unit: '%' });
  results.push({ name: `diagnosis false alarms, clean end-to-end runs, cpu reference (${nodes.clean} cases)`, value: nodes.falseAlarms, unit: 'count' });
  results.push(...(await timing()));
  results.push(...(await benchDecoderAndTwoTone()));
  for (const m of [...input.misses, ...nodes.misses]) process.stdout.write(`  miss: ${m}\n`);
  return results;
}

// ---- colour-profile (issue #13): ICC-tagged photos, one side converted to sRGB ------------------------
// test/fixtures/icc: sample photos re-encoded in Display P3 / Adobe RGB / ProPhoto RGB (scripts/make-icc-photos.ts).
// The edge side converted to sRGB is sharp's colour-managed decode (lcms2), the raw side exray's own
// decoder (ignoreIcc); the detector rebuilds the conversion from its table of standard spaces.
const ICC_PHOTOS = ['flower-p3', 'coffee-p3', 'rocket-p3', 'flower-adobergb', 'coffee-adobergb', 'rocket-adobergb', 'flower-prophoto', 'coffee-prophoto', 'rocket-prophoto'];
/** Other causes on the tagged photos, both sides raw: the injected cause, never colour-profile. */
const ICC_OTHERS: Injection[] = [
  { name: 'channel order', parts: [BGR] },
  { name: 'normalisation', parts: [RANGE] },
  { name: 'nearest', parts: [NEAREST_PART] },
];

export async function colourProfileSuite(): Promise<{ cases: number; detected: number; clean: number; falseAlarms: number; others: number; othersRight: number; misses: string[] }> {
  const out = { cases: 0, detected: 0, clean: 0, falseAlarms: 0, others: 0, othersRight: 0, misses: [] as string[] };
  for (const photo of ICC_PHOTOS) {
    const path = join('test/fixtures/icc', `${photo}.jpg`);
    const raw = await decodeImageFile(path);
    const iccProfile = raw.source.iccProfile;
    const { data: px, info } = await sharp(path, { autoOrient: false }).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const converted = { width: info.width, height: info.height, data: new Uint8ClampedArray(px) };
    for (const name of CARDS) {
      const spec = (await loadModelCard(join(MODELS, name, 'exray.json'))).inputs[0]!.preprocess!;
      const codes = (image: DecodedImage['image'], edgeImage: DecodedImage['image'], s: PreprocessSpec = spec): { got: string[]; side: string | null } => {
        const t = preprocess(edgeImage, 1, s);
        const f = fitInput({ image, orientation: 1, spec, edge: { data: t.data, shape: t.shape }, iccProfile });
        const side = f.causes.find((c) => c.code === 'colour-profile')?.evidence?.convertedSide;
        return { got: f.causes.map((c) => c.code).sort(), side: typeof side === 'string' ? side : null };
      };
      for (const [side, image, edgeImage] of [['edge', raw.image, converted], ['reference', converted, raw.image]] as const) {
        out.cases++;
        const r = codes(image, edgeImage);
        if (r.got.join() === 'colour-profile' && r.side === side) out.detected++;
        else out.misses.push(`colour-profile ${photo} × ${name}, ${side} converted: got [${r.got.join(', ')}]${r.side ? ` (${r.side} side)` : ''}`);
      }
      out.clean++;
      const clean = codes(raw.image, decoderNoise(raw.image));
      if (clean.got.length > 0) {
        out.falseAlarms++;
        out.misses.push(`false alarm ${photo} × ${name} (both raw): ${clean.got.join(', ')}`);
      }
      for (const inj of ICC_OTHERS) {
        const wrongs = inj.parts.map((p) => p.wrong(spec));
        if (wrongs.some((w) => w === null)) continue;
        const s = Object.assign({ ...spec }, ...(wrongs as Partial<PreprocessSpec>[])) as PreprocessSpec;
        // A wrong step the card already has (BGR on a BGR card) changes nothing: not a case.
        if (JSON.stringify(s) === JSON.stringify(spec)) continue;
        const expected = [...new Set(inj.parts.map((p) => p.code))].sort();
        out.others++;
        const r = codes(raw.image, raw.image, s);
        if (r.got.join() === expected.join()) out.othersRight++;
        else out.misses.push(`${photo} × ${name} × ${inj.name} (both raw): expected [${expected.join(', ')}], got [${r.got.join(', ')}]`);
      }
    }
  }
  return out;
}

export async function benchColourProfile(): Promise<BenchResult[]> {
  const t0 = performance.now();
  const c = await colourProfileSuite();
  const ms = performance.now() - t0;
  for (const m of c.misses) process.stdout.write(`  miss: ${m}\n`);
  return [
    { name: `diagnosis detection rate, colour-profile (${ICC_PHOTOS.length} Display P3 / Adobe RGB / ProPhoto photos × ${CARDS.length} cards × edge or reference converted to sRGB, ${c.cases} cases)`, value: (100 * c.detected) / c.cases, unit: '%' },
    { name: `diagnosis false alarms, ICC-tagged photos with both sides raw (±1 decoder noise, ${c.clean} cases)`, value: c.falseAlarms, unit: 'count' },
    { name: `diagnosis: other causes on ICC-tagged photos named exactly, no colour-profile (${c.others} cases)`, value: (100 * c.othersRight) / c.others, unit: '%' },
    { name: 'colour-profile suite wall time', value: ms, unit: 'ms' },
  ];
}
