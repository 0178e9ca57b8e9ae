/**
 * The input search: which pre-processing did the edge actually run? Candidates are built from the
 * original photo with the canonical pipeline's own step functions, each step swapped for a variant,
 * and scored by the residual after a per-channel affine fit against the edge's recorded input tensor.
 * Never exact equality: JPEG decoders differ by ±1, resizers slightly.
 *
 * Two stages:
 *  1. coarse (≈32 px, box-averaged both sides, so resize details vanish): EXIF orientation (all 8) ×
 *     memory order (NHWC/NCHW) × fit (stretch / center-crop / letterbox) × alpha × channel permutation;
 *     score = mean over channels of 1 − r² of the affine fit.
 *  2. fine (model resolution, best geometry fixed): fit mode, resize method (nearest / bilinear ±
 *     align-corners / half-pixel / antialias / area / bicubic / Lanczos3 / canvas 'low'; the antialiased cubic kernels
 *     only when the others leave room for them), alpha; the channel permutation re-checked;
 *     score = residual in pixel levels (0..255). The final affine fit is the normalisation evidence.
 *
 * Pure: no DOM, no Node. Returns evidence only; the rules in ./causes turn it into causes.
 */
import type { PreprocessSpec } from '../trace/types.ts';
import { castToDType, ITU_R_601_WEIGHTS, normalizeChannels, reorderChannels, toTensorLayout } from '../preprocess/normalize.ts';
import { applyExifOrientation, orientPlanes, isExifOrientation } from '../preprocess/orientation.ts';
import { fitResize } from '../preprocess/resize.ts';
import { areaToPlanar, reducedRgb, transparentFraction } from './input-images.ts';
import { preprocessToRgb, validatePreprocessSpec } from '../preprocess/pipeline.ts';
import {
  affineFit,
  crossFits,
  interleavedToPlanar,
  PERMUTATIONS_3,
  pickPlanes,
  plane,
  residualInX,
  samePermutation,
  toPlanar,
  weightedGray,
  type AffineFit,
  type Planar,
} from './fit.ts';
import type { ChannelAffine, InputExplanation, MemoryOrder, ResizeChoice } from './types.ts';

type ResizeOpts = PreprocessSpec['resize'];

export type { Alpha, AxisEvidence, EdgeGeometry, EdgeInput, Fit, InputSearch, InputSearchArgs, InputSearchOptions } from './input-search-types.ts';
import type { Alpha, AxisEvidence, EdgeGeometry, Fit, InputSearch, InputSearchArgs, InputSearchOptions } from './input-search-types.ts';
import { coarseSignificant, FITS, fineSignificant, resizeKey, RESIZE_VARIANTS, SMOOTH_VARIANTS, wantSmooth } from './search-rules.ts';

export { COARSE_MAX_RATIO, COARSE_MIN_GAP, coarseSignificant, FINE_MIN_GAP_LEVELS, FINE_MIN_RATIO, fineSignificant, resizeKey, SMOOTH_TRIGGER_LEVELS } from './search-rules.ts';

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Model channel count of a spec. */
export function specChannels(spec: PreprocessSpec): number {
  return spec.channels === 'grayscale' ? 1 : 3;
}

/** The channel map the card expects, in `InputExplanation.channels` terms. */
export function expectedChannels(spec: PreprocessSpec): number[] {
  return spec.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
}

export function expectedOrientation(spec: PreprocessSpec, source: number): number {
  return spec.exif === 'apply' ? source : 1;
}

export function specResize(spec: PreprocessSpec): ResizeChoice {
  return { ...spec.resize, fit: spec.fit };
}

/** Read the edge tensor's shape: spatial size, channels and the memory order the shape implies. */
export function edgeGeometry(shape: readonly number[], spec: PreprocessSpec): EdgeGeometry | null {
  const C = specChannels(spec);
  if (shape.length < 3) return null;
  const lead = shape.slice(0, shape.length - 3);
  if (lead.some((d) => d !== 1)) return null;
  const [d0, d1, d2] = shape.slice(-3) as [number, number, number];
  const hwc = (): EdgeGeometry => ({ height: d0, width: d1, channels: d2, shapeOrder: 'hwc' });
  const chw = (): EdgeGeometry => ({ channels: d0, height: d1, width: d2, shapeOrder: 'chw' });
  if (spec.layout === 'nhwc') {
    if (d2 === C) return hwc();
    if (d0 === C) return chw();
  } else {
    if (d0 === C) return chw();
    if (d2 === C) return hwc();
  }
  return null;
}

/** Grayscale weights over (R, G, B) planes for a weight order ([0,1,2] = as the card says, [2,1,0] = swapped). */
function grayWeightsFor(spec: PreprocessSpec, order: readonly number[]): number[] {
  const w = spec.grayWeights ?? ITU_R_601_WEIGHTS;
  // order[k] = source channel weighted by w[k].
  const out = [0, 0, 0];
  order.forEach((src, k) => (out[src] = (out[src] as number) + (w[k] as number)));
  return out;
}

const GRAY_ORDERS: readonly (readonly number[])[] = [
  [0, 1, 2],
  [2, 1, 0],
];

/** The candidate channel maps for a model with C channels. */
function channelMaps(C: number): readonly (readonly number[])[] {
  return C === 1 ? GRAY_ORDERS : PERMUTATIONS_3;
}

/** Model-channel planes of an RGB planar candidate under a channel map. */
export function modelPlanes(rgb: Planar, spec: PreprocessSpec, map: readonly number[]): Planar {
  return specChannels(spec) === 1 ? weightedGray(rgb, grayWeightsFor(spec, map)) : pickPlanes(rgb, map);
}

/** Coarse score of each channel map: mean normalised residual. */
function coarseMapScores(edge: Planar, rgb: Planar, spec: PreprocessSpec): { map: readonly number[]; score: number }[] {
  const C = specChannels(spec);
  if (C === 1) {
    return GRAY_ORDERS.map((map) => ({ map, score: affineFit(plane(weightedGray(rgb, grayWeightsFor(spec, map)), 0), plane(edge, 0)).rel }));
  }
  const fits = crossFits(edge, rgb);
  return PERMUTATIONS_3.map((map) => ({ map, score: (fits[0]![map[0]]!.rel + fits[1]![map[1]]!.rel + fits[2]![map[2]]!.rel) / 3 }));
}

/** Per-channel fits of the edge against a model-channel candidate; combined residual in pixel levels. */
export function fineFit(edge: Planar, cand: Planar): { fits: AffineFit[]; levels: number } {
  const fits: AffineFit[] = [];
  let sum = 0;
  for (let c = 0; c < edge.channels; c++) {
    const f = affineFit(plane(cand, c), plane(edge, c));
    fits.push(f);
    const r = residualInX(f);
    sum += Number.isFinite(r) ? r * r : 1e12;
  }
  return { fits, levels: Math.sqrt(sum / Math.max(1, edge.channels)) };
}

function axis<T>(entries: { value: T; score: number }[], expected: T, same: (a: T, b: T) => boolean, best: T, bestScore: number): AxisEvidence<T> {
  let expectedScore = Number.POSITIVE_INFINITY;
  for (const e of entries) if (same(e.value, expected) && e.score < expectedScore) expectedScore = e.score;
  return { best, expected, bestScore, expectedScore: Number.isFinite(expectedScore) ? expectedScore : bestScore };
}

const sameResize = (a: ResizeChoice, b: ResizeChoice): boolean => a.fit === b.fit && resizeKey(a) === resizeKey(b);

/**
 * Search the pre-processing the edge ran. Throws a RangeError when the edge tensor cannot be read as
 * an image of the card's channel count.
 */
export function searchInput(args: InputSearchArgs, options: InputSearchOptions = {}): InputSearch {
  const t0 = now();
  const { image, spec, edge } = args;
  const o = args.orientation;
  if (!isExifOrientation(o)) throw new RangeError(`EXIF orientation must be 1..8, got ${o}`);
  const geometry = edgeGeometry(edge.shape, spec);
  if (!geometry) {
    throw new RangeError(`edge input of shape [${edge.shape.join(', ')}] is not a ${specChannels(spec)}-channel image as the card describes`);
  }
  const { width: W, height: H, channels: C } = geometry;
  if (edge.data.length !== W * H * C) throw new RangeError(`edge input has ${edge.data.length} values for shape [${edge.shape.join(', ')}]`);
  const sizeMatches = W === spec.width && H === spec.height;
  const transparent = transparentFraction(image);
  const alphas: Alpha[] = transparent > 0 ? ['ignore', 'premultiply'] : [spec.alpha];
  const orders: MemoryOrder[] = C === 1 ? ['hwc'] : ['hwc', 'chw'];
  const expOrder: MemoryOrder = spec.layout === 'nhwc' ? 'hwc' : 'chw';
  const expOrient = expectedOrientation(spec, o);
  const expMap = expectedChannels(spec);
  const maps = channelMaps(C);

  // ---- stage 1: coarse ------------------------------------------------------------------------
  const coarseSize = options.coarseSize ?? 32;
  const kc = coarseSize / Math.max(W, H);
  const cw = Math.max(2, Math.round(W * kc));
  const ch = Math.max(2, Math.round(H * kc));
  const edgeFull = new Map<MemoryOrder, Planar>();
  const edgeCoarse = new Map<MemoryOrder, Planar>();
  for (const ord of orders) {
    const p = toPlanar(edge.data, W, H, C, ord);
    edgeFull.set(ord, p);
    edgeCoarse.set(ord, areaToPlanar(p, cw, ch));
  }
  interface CoarseEntry {
    alpha: Alpha;
    orientation: number;
    fit: Fit;
    order: MemoryOrder;
    map: readonly number[];
    score: number;
  }
  const entries: CoarseEntry[] = [];
  const areaOpts: ResizeOpts = { method: 'area', alignCorners: false, halfPixelCenters: false, antialias: false };
  for (const alpha of alphas) {
    const reduced = reducedRgb(image, alpha, options.coarseSource ?? 160);
    for (let k = 1; k <= 8; k++) {
      const oriented = k === 1 ? reduced : orientPlanes(reduced, k);
      for (const fit of FITS) {
        const r = fitResize(oriented, cw, ch, fit, areaOpts, 0);
        const rgb: Planar = { width: cw, height: ch, channels: 3, data: r.data };
        for (const order of orders) {
          for (const s of coarseMapScores(edgeCoarse.get(order)!, rgb, spec)) entries.push({ alpha, orientation: k, fit, order, map: s.map, score: s.score });
        }
      }
    }
  }
  // Ties go to the expected values: sort by score, then by how many axes are as expected.
  const expectedness = (e: CoarseEntry): number =>
    (e.orientation === expOrient ? 0 : 1) + (e.order === expOrder ? 0 : 1) + (samePermutation(e.map, expMap) ? 0 : 1) + (e.fit === spec.fit ? 0 : 1) + (e.alpha === spec.alpha ? 0 : 1);
  let bestC = entries[0]!;
  for (const e of entries) {
    if (e.score < bestC.score - 1e-9 || (Math.abs(e.score - bestC.score) <= 1e-9 && expectedness(e) < expectedness(bestC))) bestC = e;
  }
  const coarse = {
    orientation: axis(entries.map((e) => ({ value: e.orientation, score: e.score })), expOrient, (a, b) => a === b, bestC.orientation, bestC.score),
    memoryOrder: axis(entries.map((e) => ({ value: e.order, score: e.score })), expOrder, (a, b) => a === b, bestC.order, bestC.score),
    channels: axis(entries.map((e) => ({ value: [...e.map], score: e.score })), expMap, samePermutation, [...bestC.map], bestC.score),
    fit: axis(entries.map((e) => ({ value: e.fit, score: e.score })), spec.fit, (a, b) => a === b, bestC.fit, bestC.score),
    alpha: alphas.length > 1 ? axis(entries.map((e) => ({ value: e.alpha, score: e.score })), spec.alpha, (a, b) => a === b, bestC.alpha, bestC.score) : null,
  };

  const tCoarse = now();
  // ---- stage 2: fine --------------------------------------------------------------------------
  // Orientation and memory order: the coarse winner unless the expected value is as good (within noise).
  const orientation = coarseSignificant(coarse.orientation) ? bestC.orientation : expOrient;
  const order = coarseSignificant(coarse.memoryOrder) ? bestC.order : expOrder;
  const edgeP = edgeFull.get(order)!;
  const oriented = orientation === 1 ? image : applyExifOrientation(image, orientation);
  // Candidate images at model resolution, cached: the loop below revisits them.
  const cache = new Map<string, Planar>();
  const rgbAt = (fit: Fit, resize: ResizeOpts, a: Alpha): Planar => {
    const key = `${fit}|${resizeKey(resize)}|${a}`;
    let hit = cache.get(key);
    if (!hit) {
      const r = preprocessToRgb(oriented, 1, { ...spec, width: W, height: H, exif: 'ignore', fit, resize, alpha: a });
      hit = interleavedToPlanar(r.data, W, H, 3);
      cache.set(key, hit);
    }
    return hit;
  };
  let map: readonly number[] = coarseSignificant(coarse.channels) ? bestC.map : expMap;
  let alpha: Alpha = coarse.alpha && coarseSignificant(coarse.alpha) ? bestC.alpha : spec.alpha;
  const specRs = spec.resize;
  const specChoice = specResize(spec);
  const score = (rgb: Planar, m: readonly number[]): { fits: AffineFit[]; levels: number } => fineFit(edgeP, modelPlanes(rgb, spec, m));
  const mode = options.resizeSearch ?? 'screened';
  const variants = mode === 'classic' ? RESIZE_VARIANTS.filter((v) => v.method !== 'bicubic' && v.method !== 'lanczos3' && !v.prescale) : [...RESIZE_VARIANTS];
  if (mode === 'all') variants.push(...SMOOTH_VARIANTS);
  if (!variants.some((v) => resizeKey(v) === resizeKey(specRs))) variants.unshift(specRs);
  let smoothAdded = mode !== 'screened';

  // Coordinate descent: fit mode → resize method → alpha → channel map, again while the map changes
  // (a wrong channel map can hide a resize difference, and the reverse).
  let fitAxis!: AxisEvidence<Fit>;
  let resizeAxis!: AxisEvidence<ResizeChoice>;
  let alphaAxis: AxisEvidence<Alpha> | null = null;
  let channelAxis!: AxisEvidence<number[]>;
  let resizeScores: { resize: ResizeChoice; levels: number }[] = [];
  let chosenResize: ResizeChoice = specChoice;
  let rgbBest!: Planar;
  for (let iter = 0; iter < 3; iter++) {
    // Fit mode, with the card's resize method.
    const fitScores = FITS.map((fit) => ({ value: fit, score: score(rgbAt(fit, specRs, alpha), map).levels }));
    const bestFitEntry = fitScores.reduce((a, b) => (b.score < a.score - 1e-9 ? b : a));
    fitAxis = axis(fitScores, spec.fit, (a, b) => a === b, bestFitEntry.value, bestFitEntry.score);
    const fit = fineSignificant(fitAxis) ? bestFitEntry.value : spec.fit;

    // Resize method with that fit (the card's own variant always among them).
    resizeScores = variants.map((rs) => ({ resize: { ...rs, fit } as ResizeChoice, levels: score(rgbAt(fit, rs, alpha), map).levels }));
    const first = resizeScores.reduce((a, b) => (b.levels < a.levels ? b : a));
    if (!smoothAdded && wantSmooth(first.resize, first.levels)) {
      smoothAdded = true;
      // Bicubic first; Lanczos3 (the costliest) only when bicubic beats everything else: the Lanczos3
      // lobes make it the sharper neighbour of bicubic, never of area or antialiased bilinear.
      const [cubic, lanczos] = SMOOTH_VARIANTS as [ResizeOpts, ResizeOpts];
      const has = (rs: ResizeOpts): boolean => variants.some((v) => resizeKey(v) === resizeKey(rs));
      if (!has(cubic)) {
        variants.push(cubic);
        resizeScores.push({ resize: { ...cubic, fit }, levels: score(rgbAt(fit, cubic, alpha), map).levels });
      }
      const winner = resizeScores.reduce((a, b) => (b.levels < a.levels ? b : a));
      if (!has(lanczos) && resizeKey(winner.resize) === resizeKey(cubic)) {
        variants.push(lanczos);
        resizeScores.push({ resize: { ...lanczos, fit }, levels: score(rgbAt(fit, lanczos, alpha), map).levels });
      }
    }
    // The expected value of this axis is the card's method *and* fit; ties go to it.
    const resizeEntries = [
      { value: specChoice, score: fitScores.find((f) => f.value === spec.fit)!.score },
      ...resizeScores.map((r) => ({ value: r.resize, score: r.levels })),
    ];
    let bestRs = resizeEntries[0]!;
    for (const r of resizeEntries) if (r.score < bestRs.score - 1e-9) bestRs = r;
    resizeAxis = axis(resizeEntries, specChoice, sameResize, bestRs.value, bestRs.score);
    chosenResize = fineSignificant(resizeAxis) ? bestRs.value : specChoice;
    rgbBest = rgbAt(chosenResize.fit, chosenResize, alpha);

    // Alpha, with the chosen resize.
    if (transparent > 0) {
      const other: Alpha = alpha === 'ignore' ? 'premultiply' : 'ignore';
      const rgbOther = rgbAt(chosenResize.fit, chosenResize, other);
      const entriesA = [
        { value: alpha, score: score(rgbBest, map).levels },
        { value: other, score: score(rgbOther, map).levels },
      ];
      const bestA = entriesA[1]!.score < entriesA[0]!.score - 1e-9 ? entriesA[1]! : entriesA[0]!;
      alphaAxis = axis(entriesA, spec.alpha, (a, b) => a === b, bestA.value, bestA.score);
      const chosenAlpha = fineSignificant(alphaAxis) ? bestA.value : spec.alpha;
      if (chosenAlpha !== alpha) rgbBest = rgbOther;
      alpha = chosenAlpha;
    }

    // Channel map re-checked at full resolution.
    const mapScores = maps.map((m) => ({ value: [...m], score: score(rgbBest, m).levels }));
    let bestMap = mapScores.find((m) => samePermutation(m.value, map))!;
    for (const m of mapScores) if (m.score < bestMap.score - 1e-9) bestMap = m;
    channelAxis = axis(mapScores, [...expMap], samePermutation, bestMap.value, bestMap.score);
    const next = fineSignificant(channelAxis) || coarseSignificant(coarse.channels) ? bestMap.value : expMap;
    const changed = !samePermutation(next, map);
    map = next;
    if (!changed) break;
  }

  const final = score(rgbBest, map);
  const best: InputExplanation = {
    appliedOrientation: orientation,
    memoryOrder: order,
    channels: [...map],
    resize: chosenResize,
    alpha,
    affine: affineOf(final.fits),
    residualLevels: final.levels,
  };

  const tFine = now();
  // ---- the canonical pipeline in the same terms -------------------------------------------------
  // The canonical pipeline's own steps (= preprocess()), sharing the oriented photo when it can.
  validatePreprocessSpec(spec);
  const orientedCanon = expOrient === orientation ? oriented : expOrient === 1 ? image : applyExifOrientation(image, expOrient);
  const rgbCanonI = preprocessToRgb(orientedCanon, 1, { ...spec, exif: 'ignore' });
  const normalized = normalizeChannels(reorderChannels(rgbCanonI, spec.channels, spec.grayWeights), spec.scale, spec.mean, spec.std);
  const canonicalTensor = castToDType(toTensorLayout(normalized, spec.layout).data, spec.dtype);
  const rgbCanon = interleavedToPlanar(rgbCanonI.data, spec.width, spec.height, 3);
  const canonPlanar = toPlanar(canonicalTensor.data, spec.width, spec.height, C, expOrder);
  const canonFit = fineFit(canonPlanar, modelPlanes(rgbCanon, spec, expMap));
  const canonical: InputExplanation = {
    appliedOrientation: expOrient,
    memoryOrder: expOrder,
    channels: [...expMap],
    resize: specChoice,
    alpha: spec.alpha,
    affine: affineOf(canonFit.fits),
    residualLevels: canonFit.levels,
  };
  let canonicalResidualLevels: number | null = null;
  if (sizeMatches) {
    const edgeAsSpec = edgeFull.get(expOrder) ?? toPlanar(edge.data, W, H, C, expOrder);
    let sum = 0;
    const n = W * H;
    for (let c = 0; c < C; c++) {
      const a = Math.abs(canonical.affine.scale[c] ?? 1) || 1;
      const e = plane(edgeAsSpec, c);
      const k = plane(canonPlanar, c);
      let s = 0;
      for (let i = 0; i < n; i++) {
        const d = ((e[i] as number) - (k[i] as number)) / a;
        s += d * d;
      }
      sum += s / n;
    }
    canonicalResidualLevels = Math.sqrt(sum / C);
  }

  return {
    spec,
    sourceOrientation: o,
    geometry,
    sizeMatches,
    transparentFraction: transparent,
    coarse,
    fine: { fit: fitAxis, resize: resizeAxis, alpha: alphaAxis, channels: channelAxis, resizeScores },
    best,
    canonical,
    canonicalResidualLevels,
    ms: now() - t0,
    phases: { coarse: tCoarse - t0, fine: tFine - tCoarse, canonical: now() - tFine },
  };
}

function affineOf(fits: AffineFit[]): ChannelAffine {
  return { scale: fits.map((f) => f.a), offset: fits.map((f) => f.b) };
}
