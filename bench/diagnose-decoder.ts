/**
 * Diagnosis benchmark rows for issue #13's `decoder` finding and competing explanations (run from
 * bench/diagnose.ts):
 *
 * - decoder, input level: every sample card × every sample JPEG, the edge's photo decoded by jpeg-js
 *   (pure JS: chroma by pixel replication, its own IDCT), the reference's by sharp (libjpeg-turbo:
 *   fancy upsampling, slow integer IDCT). Detected: `input.decoder` measured; a false alarm: any
 *   input cause. 4:2:0 photos (apple, butterfly, orange) should be placed on chroma edges. The same
 *   with BGR injected on top: channel-order named alone (kept apart from a real bug).
 * - decoder, end to end: runDiagnosis of 4 models on jpeg-js decodes; a false alarm: any cause but
 *   `none` while the model's result is unchanged.
 * - two-tone images: the real grayscale text images (page_line1.png, page.png, text.png) printed in
 *   three ink/paper colour pairs, every 3-channel card: the card's channel order flipped (RGB↔BGR) must
 *   be named channel-order, with the per-channel normalisation as runner-up where the fits tie; clean
 *   runs nothing; a per-channel mean/std the card does not use (float cards) stays normalization.
 */
import { join } from 'node:path';
import { runDiagnosis } from '../src/cli/commands/diagnose.ts';
import { fitInput } from '../src/diagnose/index.ts';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import type { RgbaImage } from '../src/preprocess/image.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import type { PreprocessSpec } from '../src/trace/types.ts';
import { decodeWithJpegJs, edgeTrace, twoTone } from '../test/decoder-helpers.ts';
import type { BenchResult } from './types.ts';

const MODELS = 'models';
const SAMPLES = 'public/samples';
const CARDS = ['nsfw-mobilenet-v2', 'blazeface', 'emotion', 'movenet-lightning', 'centernet', 'ppocr-mobile-v2-cls', 'handtrack'];
const JPEGS = ['apple.jpg', 'butterfly.jpg', 'orange.jpg', 'flower.jpg', 'china.jpg', 'rocket.jpg', 'starry_night.jpg', 'chelsea_exif6.jpg', 'coffee_exif3.jpg', 'rocket_exif8.jpg'];
const CHROMA_420 = new Set(['apple.jpg', 'butterfly.jpg', 'orange.jpg']);
const TEXT_IMAGES = ['page_line1.png', 'page.png', 'text.png'];
/** Ink on paper, every channel rising from ink to paper (the case where a swap is an affine map). */
const COLOURS: [number[], number[]][] = [
  [[20, 40, 110], [250, 235, 200]],
  [[30, 80, 40], [245, 240, 190]],
  [[110, 20, 30], [235, 230, 225]],
];

async function specOf(name: string): Promise<PreprocessSpec> {
  return (await loadModelCard(join(MODELS, name, 'exray.json'))).inputs[0]!.preprocess!;
}

export async function benchDecoderAndTwoTone(): Promise<BenchResult[]> {
  const misses: string[] = [];
  const dec = { cases: 0, measured: 0, causes: 0, c420: 0, c420edges: 0, bgr: 0, bgrRight: 0 };
  for (const photo of JPEGS) {
    const d = await decodeImageFile(join(SAMPLES, photo));
    const other = decodeWithJpegJs(join(SAMPLES, photo));
    const o = d.source.exifOrientation;
    for (const name of CARDS) {
      const spec = await specOf(name);
      const fit = (s: PreprocessSpec): ReturnType<typeof fitInput> => {
        const t = preprocess(other, o, s);
        return fitInput({ image: d.image, orientation: o, spec, edge: { data: t.data, shape: t.shape }, mimeType: d.source.mimeType });
      };
      const f = fit(spec);
      dec.cases++;
      if (f.decoder) dec.measured++;
      else misses.push(`decoder not measured: ${name} × ${photo}`);
      if (f.causes.length > 0) {
        dec.causes++;
        misses.push(`decoder false alarm ${name} × ${photo}: ${f.causes.map((c) => c.code).join(', ')}`);
      }
      if (CHROMA_420.has(photo) && spec.channels !== 'grayscale') {
        dec.c420++;
        if (f.decoder?.where === 'chroma-edges') dec.c420edges++;
        else misses.push(`decoder ${name} × ${photo} (4:2:0): placed ${f.decoder?.where ?? 'nowhere'}`);
      }
      if (spec.channels !== 'grayscale') {
        dec.bgr++;
        const g = fit({ ...spec, channels: spec.channels === 'bgr' ? 'rgb' : 'bgr' });
        if (g.causes.map((c) => c.code).join() === 'channel-order' && g.decoder) dec.bgrRight++;
        else misses.push(`decoder + channel swap ${name} × ${photo}: got [${g.causes.map((c) => c.code).join(', ')}]`);
      }
    }
  }

  // End to end: the model's result with another decoder, the diagnosis's causes.
  const e2e = { runs: 0, causes: 0, info: 0 };
  for (const [name, photo] of [
    ['nsfw-mobilenet-v2', 'apple.jpg'],
    ['blazeface', 'butterfly.jpg'],
    ['emotion', 'orange.jpg'],
    ['ppocr-mobile-v2-cls', 'rocket_exif8.jpg'],
  ] as const) {
    const d = await decodeImageFile(join(SAMPLES, photo));
    const edge = await edgeTrace(name, decodeWithJpegJs(join(SAMPLES, photo)), d.source);
    const { diagnosis } = await runDiagnosis({ edge, image: d, model: join(MODELS, name), backend: 'wasm', maxReplay: 8 });
    e2e.runs++;
    if (diagnosis.info?.some((c) => c.code === 'decoder')) e2e.info++;
    if (diagnosis.causes.some((c) => c.code !== 'none')) {
      e2e.causes++;
      misses.push(`decoder end to end ${name} × ${photo}: ${diagnosis.summary}`);
    }
  }

  const two = { swaps: 0, named: 0, runnerUp: 0, clean: 0, falseAlarms: 0, norm: 0, normRight: 0 };
  for (const file of TEXT_IMAGES) {
    const d = await decodeImageFile(join(SAMPLES, file));
    for (const [ink, paper] of COLOURS) {
      const image: RgbaImage = twoTone(d.image, ink, paper);
      for (const name of CARDS) {
        const spec = await specOf(name);
        if (spec.channels === 'grayscale') continue;
        const fit = (s: PreprocessSpec): ReturnType<typeof fitInput> => {
          const t = preprocess(image, 1, s);
          return fitInput({ image, orientation: 1, spec, edge: { data: t.data, shape: t.shape }, mimeType: d.source.mimeType });
        };
        const label = `${name} × ${file} in ${ink.join(',')} on ${paper.join(',')}`;
        two.swaps++;
        const f = fit({ ...spec, channels: spec.channels === 'bgr' ? 'rgb' : 'bgr' });
        const runnerUp = f.causes[0]?.alternatives?.[0];
        if (f.causes.map((c) => c.code).join() === 'channel-order') two.named++;
        else misses.push(`two-tone swap ${label}: got [${f.causes.map((c) => c.code).join(', ')}]`);
        // A letterboxed card pads every channel with the same value, which no per-channel map of the
        // unswapped channels reproduces: the swap then wins on its fit and there is no tie to show.
        if (runnerUp?.codes.join() === 'normalization') two.runnerUp++;
        else if (spec.fit !== 'letterbox') misses.push(`two-tone swap ${label}: no normalisation runner-up`);
        two.clean++;
        const c = fit(spec);
        if (c.causes.length > 0) {
          two.falseAlarms++;
          misses.push(`two-tone false alarm ${label}: ${c.causes.map((x) => x.code).join(', ')}`);
        }
        // A per-channel mean/std on an integer (raw 0..255) input is not a pipeline anyone ships.
        if (spec.dtype !== 'float32') continue;
        two.norm++;
        const n = fit({ ...spec, scale: 1 / 255, mean: [0.4, 0.5, 0.6], std: [0.3, 0.25, 0.2] });
        if (n.causes.map((x) => x.code).join() === 'normalization' && !n.causes[0]!.alternatives) two.normRight++;
        else misses.push(`two-tone per-channel mean/std ${label}: got [${n.causes.map((x) => `${x.code}${x.alternatives ? '+alternatives' : ''}`).join(', ')}]`);
      }
    }
  }
  for (const m of misses) process.stdout.write(`  miss: ${m}\n`);
  return [
    { name: `diagnosis, decoder: another JPEG decoder (jpeg-js vs sharp) measured (${dec.cases} cases: ${CARDS.length} cards × ${JPEGS.length} JPEGs)`, value: (100 * dec.measured) / dec.cases, unit: '%' },
    { name: `diagnosis, decoder alone: false alarms as an input cause (${dec.cases} cases)`, value: dec.causes, unit: 'count' },
    { name: `diagnosis, decoder: 4:2:0 JPEGs placed on chroma edges (${dec.c420} cases)`, value: dec.c420 ? (100 * dec.c420edges) / dec.c420 : 0, unit: '%' },
    { name: `diagnosis, decoder + channel swap: channel-order named alone, decoder still measured (${dec.bgr} cases)`, value: dec.bgr ? (100 * dec.bgrRight) / dec.bgr : 0, unit: '%' },
    { name: `diagnosis, decoder alone end to end: false alarms as a cause (${e2e.runs} runs, result unchanged)`, value: e2e.causes, unit: 'count' },
    { name: `diagnosis, decoder alone end to end: named in info (${e2e.runs} runs)`, value: (100 * e2e.info) / e2e.runs, unit: '%' },
    { name: `diagnosis, two-tone images: channel swap named as channel-order alone (${two.swaps} cases: ${TEXT_IMAGES.length} text images × ${COLOURS.length} colour pairs × 3-channel cards)`, value: (100 * two.named) / two.swaps, unit: '%' },
    { name: `diagnosis, two-tone images: per-channel normalisation shown as runner-up of the swap (${two.swaps} cases; letterboxed cards' padding breaks the tie)`, value: (100 * two.runnerUp) / two.swaps, unit: '%' },
    { name: `diagnosis, two-tone images: false alarms, clean (${two.clean} cases)`, value: two.falseAlarms, unit: 'count' },
    { name: `diagnosis, two-tone images: a per-channel mean/std stays normalization, no runner-up (${two.norm} cases)`, value: (100 * two.normRight) / two.norm, unit: '%' },
  ];
}
