/**
 * Resize-method diagnosis benchmark (issue #13): which resampler did the edge run?
 *
 * - sharp (libvips) kernels cubic / lanczos3 / mitchell on real photos × the bundled cards (the card's
 *   geometry, then sharp's resize, then the card's other steps: test/resize-helpers.ts). Detected = the
 *   causes are exactly [resize]; named = the method found is the expected one (cubic → bicubic
 *   antialiased, lanczos3 → Lanczos3 antialiased, mitchell → the nearest of ours, antialiased bilinear).
 *   Only downscales: libvips upscales with its own pixel-centre convention, not modelled (counted apart).
 * - exray's own bicubic / Lanczos3, antialiased or not, injected through the pipeline.
 * - Chromium canvas drawImage with imageSmoothingQuality low / medium / high (committed fixtures made by
 *   scripts/make-canvas-resize.ts) on the cards whose stretch size the fixtures have.
 * - Clean inputs (±1 decoder noise): any cause is a false alarm.
 * - The existing injected-bug suite (bench/diagnose.ts inputSuite) with the resize variants before
 *   bicubic/Lanczos3 ('classic', the anchor) and with them ('screened', the default), side by side: its
 *   detection rate, false alarms and median time must not move.
 * - Wall time of the input search on one photo per variant set (classic / screened / all), median of 5.
 *
 * Run alone: EXRAY_BENCH_ONLY=diagnose-resize npm run bench (EXRAY_BENCH_RESIZE_QUICK=1: without the
 * existing suite's re-check).
 */
import { join } from 'node:path';
import { fitInput, type InputFit } from '../src/diagnose/index.ts';
import { resizeKey } from '../src/diagnose/input-search.ts';
import type { InputSearchOptions } from '../src/diagnose/input-search-types.ts';
import { decoderNoise } from '../src/diagnose/test-images.ts';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import type { DecodedImage } from '../src/preprocess/image.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import type { PreprocessSpec } from '../src/trace/types.ts';
import { canvasMipLevelSize } from '../src/preprocess/resize-canvas.ts';
import { CANVAS_QUALITIES, canvasFixture, canvasManifest, finishTensor, geometryForResize, sharpResize, type CanvasQuality, type SharpKernel } from '../test/resize-helpers.ts';
import { inputSuite } from './diagnose.ts';
import type { BenchResult } from './types.ts';

const MODELS = 'models';
const SAMPLES = 'public/samples';
const CARDS = ['nsfw-mobilenet-v2', 'blazeface', 'emotion', 'movenet-lightning', 'centernet', 'ppocr-mobile-v2-cls', 'handtrack'];
const PHOTOS = ['chelsea.png', 'chelsea_exif6.jpg', 'rocket_exif8.jpg', 'coffee_exif3.jpg', 'flower.jpg', 'starry_night.jpg', 'page.png', 'astronaut.png'];

/** The method each external resampler should be named as (resizeKey). */
const SHARP_EXPECTED: Record<string, readonly string[]> = {
  cubic: ['bicubic+aa'],
  lanczos3: ['lanczos3+aa'],
  mitchell: ['bilinear+aa'],
};
/**
 * Canvas qualities → the method of ours each is named as, measured on these fixtures (Chromium 156,
 * default context): 'low' is half-pixel bilinear (0.3–0.7 levels rms); 'medium' and 'high' give the
 * same pixels (mipmaps), closest to a smoothing filter with 1–4 levels left (docs/diagnose.md).
 */
/** 'low' is modelled exactly: canvas-low, which is bilinear+hpc itself below a 2× downscale (canvasExpected). */
export const CANVAS_EXPECTED: Record<CanvasQuality, readonly string[]> = {
  low: ['canvas-low', 'bilinear+hpc'],
  medium: ['bilinear+aa', 'area', 'bicubic+aa'],
  high: ['bilinear+aa', 'area', 'bicubic+aa'],
};

interface Tally {
  cases: number;
  detected: number;
  named: number;
}
const tally = (): Tally => ({ cases: 0, detected: 0, named: 0 });

type Edge = { data: Float32Array | Int32Array; shape: number[] };

function score(t: Tally, f: InputFit, expectedKeys: readonly string[], label: string, misses: string[]): void {
  t.cases++;
  const codes = f.causes.map((c) => c.code);
  const detected = codes.length === 1 && codes[0] === 'resize';
  const key = resizeKey(f.best.resize);
  if (detected) t.detected++;
  if (detected && expectedKeys.includes(key)) t.named++;
  else misses.push(`${label}: got [${codes.join(', ')}] ${key} (${f.best.residualLevels.toFixed(2)} levels)`);
}

async function cards(): Promise<Map<string, PreprocessSpec>> {
  const m = new Map<string, PreprocessSpec>();
  for (const name of CARDS) m.set(name, (await loadModelCard(join(MODELS, name, 'exray.json'))).inputs[0]!.preprocess!);
  return m;
}

export async function benchDiagnoseResize(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const misses: string[] = [];
  const specs = await cards();
  const photos = new Map<string, DecodedImage>();
  for (const p of PHOTOS) photos.set(p, await decodeImageFile(join(SAMPLES, p)));

  // ---- sharp kernels, our kernels, clean ---------------------------------------------------------
  const sharpT: Record<string, Tally> = { cubic: tally(), lanczos3: tally(), mitchell: tally() };
  let sharpUpscale = 0;
  const oursT: Record<string, Tally> = {};
  const clean = { cases: 0, falseAlarms: 0 };
  const OURS: PreprocessSpec['resize'][] = [
    { method: 'bicubic', alignCorners: false, halfPixelCenters: true, antialias: true },
    { method: 'lanczos3', alignCorners: false, halfPixelCenters: true, antialias: true },
    { method: 'bicubic', alignCorners: false, halfPixelCenters: true, antialias: false },
    { method: 'lanczos3', alignCorners: false, halfPixelCenters: true, antialias: false },
  ];
  for (const [name, spec] of specs) {
    for (const [photo, d] of photos) {
      const o = d.source.exifOrientation;
      const f0 = fitInput({ image: d.image, orientation: o, spec, edge: preprocess(decoderNoise(d.image), o, spec) });
      clean.cases++;
      if (f0.causes.length > 0) {
        clean.falseAlarms++;
        misses.push(`false alarm ${name} × ${photo}: ${f0.causes.map((c) => c.code).join(', ')}`);
      }
      const geo = geometryForResize(d.image, o, spec);
      const downscale = geo.width > spec.width && geo.height > spec.height;
      for (const kernel of Object.keys(sharpT) as SharpKernel[]) {
        if (!downscale) {
          sharpUpscale++;
          continue;
        }
        const edge: Edge = finishTensor(await sharpResize(geo, spec.width, spec.height, kernel), spec);
        score(sharpT[kernel]!, fitInput({ image: d.image, orientation: o, spec, edge }), SHARP_EXPECTED[kernel]!, `sharp ${kernel} ${name} × ${photo}`, misses);
      }
      const canonical = preprocess(d.image, o, spec).data;
      for (const r of OURS) {
        const key = resizeKey(r);
        const injected = preprocess(d.image, o, { ...spec, resize: r });
        // Not a case when the method changes nothing (the photo already at the model's size).
        if (injected.data.every((v, i) => Math.abs(v - canonical[i]!) < 1e-6)) continue;
        // Upscaling: antialias changes nothing, the two are one method.
        const expected = downscale ? [key] : [key, key.replace('+aa', '')];
        const t = (oursT[key] ??= tally());
        score(t, fitInput({ image: d.image, orientation: o, spec, edge: injected }), expected, `ours ${key} ${name} × ${photo}`, misses);
      }
    }
  }
  for (const [k, t] of Object.entries(sharpT)) {
    results.push({ name: `resize diagnosis, sharp kernel '${k}' detected as resize (${t.cases} downscale cases: ${CARDS.length} cards × ${PHOTOS.length} photos)`, value: (100 * t.detected) / t.cases, unit: '%' });
    results.push({ name: `resize diagnosis, sharp kernel '${k}' named ${SHARP_EXPECTED[k]!.join(' or ')}`, value: (100 * t.named) / t.cases, unit: '%' });
  }
  results.push({ name: 'resize diagnosis, sharp upscale cases not benchmarked (libvips upscale pixel convention not modelled)', value: sharpUpscale, unit: 'count' });
  for (const [k, t] of Object.entries(oursT)) {
    results.push({ name: `resize diagnosis, exray ${k} injected: detected / named exactly (${t.cases} cases)`, value: (100 * t.named) / t.cases, unit: '%' });
  }
  results.push({ name: `resize diagnosis, false alarms on clean inputs with ±1 decoder noise (${clean.cases} cases)`, value: clean.falseAlarms, unit: 'count' });

  // ---- canvas drawImage fixtures -------------------------------------------------------------------
  const manifest = canvasManifest();
  const canvasT: Record<string, Tally> = {};
  for (const [name, spec] of specs) {
    if (spec.fit !== 'stretch' || !manifest.sizes.includes(spec.width === spec.height ? `${spec.width}` : `${spec.width}x${spec.height}`)) continue;
    for (const photo of manifest.photos) {
      const d = photos.get(photo) ?? (await decodeImageFile(join(SAMPLES, photo)));
      for (const q of CANVAS_QUALITIES) {
        const fx = await canvasFixture(photo, q, spec.width, spec.height);
        const f = fitInput({ image: d.image, orientation: d.source.exifOrientation, spec, edge: finishTensor(fx.resized, spec) });
        const expected = q !== 'low' ? CANVAS_EXPECTED[q] : canvasMipLevelSize(d.image.width, d.image.height, spec.width, spec.height) ? ['canvas-low'] : ['bilinear+hpc'];
        score((canvasT[q] ??= tally()), f, expected, `canvas ${q} ${name} × ${photo}`, misses);
      }
    }
  }
  for (const q of CANVAS_QUALITIES) {
    const t = canvasT[q] ?? tally();
    results.push({ name: `resize diagnosis, canvas imageSmoothingQuality '${q}' detected as resize (${t.cases} cases, Chromium ${manifest.chromium})`, value: t.cases ? (100 * t.detected) / t.cases : 0, unit: '%' });
    results.push({ name: `resize diagnosis, canvas '${q}' named ${q === 'low' ? 'canvas-low (bilinear+hpc below 2×)' : CANVAS_EXPECTED[q].join(' or ')}`, value: t.cases ? (100 * t.named) / t.cases : 0, unit: '%' });
  }

  // ---- cost of one search, per variant set ------------------------------------------------------------
  const spec = specs.get('nsfw-mobilenet-v2')!;
  const d = photos.get('flower.jpg')!;
  const edges: [string, Edge][] = [
    ['clean', preprocess(decoderNoise(d.image), 1, spec)],
    ["sharp 'cubic'", finishTensor(await sharpResize(geometryForResize(d.image, 1, spec), spec.width, spec.height, 'cubic'), spec)],
  ];
  for (const [label, edge] of edges) {
    for (const mode of ['classic', 'screened', 'all'] as const) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        fitInput({ image: d.image, orientation: 1, spec, edge }, { resizeSearch: mode } satisfies InputSearchOptions);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      results.push({ name: `input search, flower.jpg 640×427 → nsfw-mobilenet-v2 224×224, ${label} edge, resize variants '${mode}', median of 5`, value: times[2]!, unit: 'ms' });
    }
  }

  // ---- the existing injected-bug suite, before/after, side by side ---------------------------------------
  // EXRAY_BENCH_RESIZE_QUICK=1 skips it (two passes over ~1,000 cases: most of this section's time).
  for (const mode of process.env.EXRAY_BENCH_RESIZE_QUICK ? [] : (['classic', 'screened'] as const)) {
    const s = await inputSuite({ resizeSearch: mode });
    results.push({ name: `existing injected input bugs, resize variants '${mode}': detected exactly (${s.cases} cases)`, value: (100 * s.detected) / s.cases, unit: '%' });
    results.push({ name: `existing clean inputs, resize variants '${mode}': false alarms (${s.clean} cases)`, value: s.falseAlarms, unit: 'count' });
    results.push({ name: `existing injected input bugs, resize variants '${mode}': input search median per case`, value: s.medianMs, unit: 'ms' });
    for (const m of s.misses) misses.push(`[${mode}] ${m}`);
  }
  for (const m of misses) process.stdout.write(`  miss: ${m}\n`);
  return results;
}
