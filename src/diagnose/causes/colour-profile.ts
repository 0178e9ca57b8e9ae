/**
 * `colour-profile`: the photo carries an ICC profile of a wider colour space than sRGB (Display P3 from
 * iPhones and wide-gamut Androids, Adobe RGB from cameras, ProPhoto from raw converters, Rec. 2020) and one side converted its pixels to sRGB
 * while the other fed the raw values. A colour-managed decoder (canvas / `createImageBitmap` with the
 * default `colorSpaceConversion`, sharp's default output) converts; `colorSpaceConversion: 'none'`,
 * PIL's default and exray's own decoders (`ignoreIcc`) do not. The raw values of a P3 photo are duller
 * than its sRGB ones, so the model sees other colours.
 *
 * The conversion is not a per-channel map (it mixes the channels through the primaries and bends the
 * values through the transfer curves), so the input search, whose candidates differ by a per-channel
 * affine map, cannot explain it. Evidence: the candidate pipeline re-run on the profile→sRGB
 * conversion of the photo (edge converted, reference raw) and on the sRGB→profile conversion (edge raw,
 * reference converted), each with its own per-channel affine fit; the cause is named when one of them
 * explains the edge input within decoder noise and much better than the pixels as they are.
 *
 * The conversion is rebuilt from a table of the standard spaces keyed by the profile's description
 * (ExifReader reads the name, not the colorants and curves): linearise with the space's transfer
 * curve, 3×3 primaries matrix to sRGB's (with a Bradford adaptation when the whites differ: ProPhoto's
 * D50 to sRGB's D65, as an ICC profile's PCS does), re-encode, clip (relative colorimetric, what lcms2
 * and the browsers do for matrix profiles). A profile not in the table is not diagnosed.
 */
import { ITU_R_601_WEIGHTS } from '../../preprocess/normalize.ts';
import { preprocessToRgb } from '../../preprocess/pipeline.ts';
import type { FloatImage } from '../../preprocess/image.ts';
import type { PreprocessSpec } from '../../trace/types.ts';
import { affineFit, conf, pickPlanes, residualInX, sig, toPlanar, weightedGray, type Planar } from '../fit.ts';
import type { InputSearch, InputSearchArgs } from '../input-search.ts';
import type { Cause, ChannelAffine, InputExplanation } from '../types.ts';

type Xy = readonly [number, number];
type Mat3 = readonly [number, number, number, number, number, number, number, number, number];

/** A standard RGB space: primaries and white (CIE xy) and its transfer curve (encoded → linear). */
export interface ColourSpace {
  name: string;
  red: Xy;
  green: Xy;
  blue: Xy;
  white: Xy;
  toLinear: (v: number) => number;
  fromLinear: (v: number) => number;
}

const D65: Xy = [0.3127, 0.329];
const D50: Xy = [0.3457, 0.3585];
const srgbToLinear = (v: number): number => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const srgbFromLinear = (v: number): number => (v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055);
/** Adobe RGB (1998) §4.3.4.2: gamma 563/256 (≈ 2.2), no linear toe. */
const ADOBE_GAMMA = 563 / 256;

export const SRGB: ColourSpace = { name: 'sRGB', red: [0.64, 0.33], green: [0.3, 0.6], blue: [0.15, 0.06], white: D65, toLinear: srgbToLinear, fromLinear: srgbFromLinear };
/** Display P3: DCI-P3 primaries, D65 white, the sRGB curve (Apple's and Android's wide-gamut photos). */
export const DISPLAY_P3: ColourSpace = { name: 'Display P3', red: [0.68, 0.32], green: [0.265, 0.69], blue: [0.15, 0.06], white: D65, toLinear: srgbToLinear, fromLinear: srgbFromLinear };
export const ADOBE_RGB: ColourSpace = {
  name: 'Adobe RGB (1998)',
  red: [0.64, 0.33],
  green: [0.21, 0.71],
  blue: [0.15, 0.06],
  white: D65,
  toLinear: (v) => Math.max(0, v) ** ADOBE_GAMMA,
  fromLinear: (v) => Math.max(0, v) ** (1 / ADOBE_GAMMA),
};

/**
 * ProPhoto RGB (ROMM RGB, ISO 22028-2): very wide primaries, D50 white, gamma 1.8 — what Lightroom
 * exports and DSLR raw converters default to. ICC profiles of it (colord's ProPhotoRGB.icc, Adobe's,
 * Kodak's) encode a pure 1.8 gamma (`para` type 0); ROMM's 1/512 linear toe is ignored, as they do.
 */
export const PROPHOTO_RGB: ColourSpace = {
  name: 'ProPhoto RGB',
  red: [0.7347, 0.2653],
  green: [0.1596, 0.8404],
  blue: [0.0366, 0.0001],
  white: D50,
  toLinear: (v) => Math.max(0, v) ** 1.8,
  fromLinear: (v) => Math.max(0, v) ** (1 / 1.8),
};
/** ITU-R BT.2020 primaries, D65, with the BT.709/BT.2020 camera curve (Android's `BT2020` colour space and "Rec. 2020" ICC profiles). */
const BT709_A = 1.09929682680944;
const BT709_B = 0.018053968510807;
export const REC2020: ColourSpace = {
  name: 'Rec. 2020',
  red: [0.708, 0.292],
  green: [0.17, 0.797],
  blue: [0.131, 0.046],
  white: D65,
  toLinear: (v) => (v < 4.5 * BT709_B ? v / 4.5 : ((v + BT709_A - 1) / BT709_A) ** (1 / 0.45)),
  fromLinear: (v) => (v < BT709_B ? 4.5 * v : BT709_A * Math.max(0, v) ** 0.45 - (BT709_A - 1)),
};

/**
 * The standard space a profile description names, or null (unknown, or sRGB itself: nothing to
 * convert). Names seen in the wild: "Display P3" (iPhone, Android), "sP3C" (the compact P3 profile
 * sharp and libvips embed), "Adobe RGB (1998)", "Compatible with Adobe RGB (1998)" (colord, GIMP),
 * "sRGB IEC61966-2.1", "sRGB built-in", "c2" (compact sRGB). DCI-P3 proper has another white and a
 * 2.6 gamma: not Display P3.
 */
export function colourSpaceOfProfile(description: string): ColourSpace | null {
  const d = description.toLowerCase();
  if (/dci/.test(d)) return null;
  if (/display\s*p3|\bp3\b|^sp3c$|p3 d65/.test(d)) return DISPLAY_P3;
  if (/adobe\s*rgb|adobergb/.test(d)) return ADOBE_RGB;
  if (/pro\s*photo|romm/.test(d)) return PROPHOTO_RGB;
  // "Rec. 2020", "ITU-R BT.2020", "Rec2020"; not the PQ / HLG HDR variants (other curves).
  if (/(rec\.?\s*|bt\.?\s*)2020/.test(d) && !/pq|hlg|2100/.test(d)) return REC2020;
  return null;
}

function xyz([x, y]: Xy): [number, number, number] {
  return [x / y, 1, (1 - x - y) / y];
}

function det3(m: Mat3): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

function inv3(m: Mat3): Mat3 {
  const d = det3(m);
  return [
    (m[4] * m[8] - m[5] * m[7]) / d,
    (m[2] * m[7] - m[1] * m[8]) / d,
    (m[1] * m[5] - m[2] * m[4]) / d,
    (m[5] * m[6] - m[3] * m[8]) / d,
    (m[0] * m[8] - m[2] * m[6]) / d,
    (m[2] * m[3] - m[0] * m[5]) / d,
    (m[3] * m[7] - m[4] * m[6]) / d,
    (m[1] * m[6] - m[0] * m[7]) / d,
    (m[0] * m[4] - m[1] * m[3]) / d,
  ];
}

function mul3(a: Mat3, b: Mat3): Mat3 {
  const o: number[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) o.push(a[3 * r]! * b[c]! + a[3 * r + 1]! * b[3 + c]! + a[3 * r + 2]! * b[6 + c]!);
  return o as unknown as Mat3;
}

/** Linear RGB → XYZ of a space (row-major): the primaries' XYZ scaled so that RGB 1,1,1 is the white. */
export function rgbToXyz(s: ColourSpace): Mat3 {
  const [r, g, b] = [xyz(s.red), xyz(s.green), xyz(s.blue)];
  const p: Mat3 = [r[0], g[0], b[0], r[1], g[1], b[1], r[2], g[2], b[2]];
  const w = xyz(s.white);
  const ip = inv3(p);
  const k = [0, 1, 2].map((i) => ip[3 * i]! * w[0] + ip[3 * i + 1]! * w[1] + ip[3 * i + 2]! * w[2]);
  return [p[0] * k[0]!, p[1] * k[1]!, p[2] * k[2]!, p[3] * k[0]!, p[4] * k[1]!, p[5] * k[2]!, p[6] * k[0]!, p[7] * k[1]!, p[8] * k[2]!];
}

/** Bradford's cone response matrix (ICC.1 Annex E, what lcms2 uses for the PCS's chromatic adaptation). */
const BRADFORD: Mat3 = [0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296];

/** XYZ under white `from` → XYZ under white `to` (Bradford); the identity when the whites are equal. */
export function adaptWhite(from: Xy, to: Xy): Mat3 {
  if (from[0] === to[0] && from[1] === to[1]) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const cone = (w: Xy): number[] => {
    const x = xyz(w);
    return [0, 1, 2].map((r) => BRADFORD[3 * r]! * x[0] + BRADFORD[3 * r + 1]! * x[1] + BRADFORD[3 * r + 2]! * x[2]);
  };
  const [s, d] = [cone(from), cone(to)];
  const scale: Mat3 = [d[0]! / s[0]!, 0, 0, 0, d[1]! / s[1]!, 0, 0, 0, d[2]! / s[2]!];
  return mul3(inv3(BRADFORD), mul3(scale, BRADFORD));
}

/**
 * Convert an RGB image (values 0..255, either layout) from one space to another, clipping out-of-gamut
 * colours; whites that differ are adapted (Bradford).
 */
export function convertRgb(img: FloatImage, from: ColourSpace, to: ColourSpace): FloatImage {
  const m = mul3(inv3(rgbToXyz(to)), mul3(adaptWhite(from.white, to.white), rgbToXyz(from)));
  const n = img.width * img.height;
  const out = new Float32Array(img.data.length);
  const [ps, cs] = img.layout === 'interleaved' ? [3, 1] : [1, n];
  const d = img.data;
  for (let i = 0; i < n; i++) {
    const o = i * ps;
    const r = from.toLinear((d[o] as number) / 255);
    const g = from.toLinear((d[o + cs] as number) / 255);
    const b = from.toLinear((d[o + 2 * cs] as number) / 255);
    for (let c = 0; c < 3; c++) {
      const lin = m[3 * c]! * r + m[3 * c + 1]! * g + m[3 * c + 2]! * b;
      out[o + c * cs] = 255 * to.fromLinear(Math.min(1, Math.max(0, lin)));
    }
  }
  return { ...img, data: out };
}

/** Which side converted the photo to sRGB. */
export type ConvertedSide = 'edge' | 'reference';

export interface ColourProfileFinding {
  cause: Cause;
  /** The explanation with the colour conversion in it: its geometry and its per-channel affine fit. */
  explanation: InputExplanation;
}

/** Noise margins: the conversion must explain the input within decoder/re-encoding noise, and clearly better. */
const EXPLAINED = 5;
const MIN_GAIN_LEVELS = 1;
const MAX_RATIO = 0.6;

interface Fitted {
  affine: ChannelAffine;
  levels: number;
}

function fitPlanes(edge: Planar, cand: Planar): Fitted {
  const scale: number[] = [];
  const offset: number[] = [];
  let sum = 0;
  for (let c = 0; c < edge.channels; c++) {
    const n = edge.width * edge.height;
    const f = affineFit(cand.data.subarray(c * n, (c + 1) * n), edge.data.subarray(c * n, (c + 1) * n));
    scale.push(f.a);
    offset.push(f.b);
    const r = residualInX(f);
    sum += Number.isFinite(r) ? r * r : 1e12;
  }
  return { affine: { scale, offset }, levels: Math.sqrt(sum / Math.max(1, edge.channels)) };
}

/** The model-channel planes (pixel levels) of an RGB candidate, as an explanation maps them. */
function modelPlanes(rgb: FloatImage, ex: InputExplanation, spec: PreprocessSpec): Planar {
  const planar = toPlanar(rgb.data, rgb.width, rgb.height, 3, rgb.layout === 'interleaved' ? 'hwc' : 'chw');
  if (spec.channels !== 'grayscale') return pickPlanes(planar, ex.channels);
  const w = spec.grayWeights ?? ITU_R_601_WEIGHTS;
  return weightedGray(planar, ex.channels.map((j) => w[j]!));
}

/**
 * The finding when the profile names a wide-gamut space and a conversion explains the edge input;
 * null otherwise (no profile, sRGB or unknown profile, sizes differ, or the pixels as they are explain
 * the input as well).
 */
export function colourProfileCause(s: InputSearch, args: InputSearchArgs, profile: string | undefined): ColourProfileFinding | null {
  if (!profile || !s.sizeMatches) return null;
  const space = colourSpaceOfProfile(profile);
  if (!space) return null;
  const { width: W, height: H, channels: C } = s.geometry;
  // The geometry of the search's best explanation and the card's own: the colour mix-up may come
  // alone (the usual case) or with other steps the search found.
  const geometries = [s.canonical, s.best].filter((g, i, all) => i === 0 || JSON.stringify({ ...g, affine: 0, residualLevels: 0 }) !== JSON.stringify({ ...all[0], affine: 0, residualLevels: 0 }));
  let best: { side: ConvertedSide; fit: Fitted; raw: Fitted; ex: InputExplanation; other: number } | null = null;
  for (const g of geometries) {
    const spec: PreprocessSpec = {
      ...s.spec,
      exif: 'apply',
      fit: g.resize.fit,
      alpha: g.alpha,
      resize: { method: g.resize.method, alignCorners: g.resize.alignCorners, halfPixelCenters: g.resize.halfPixelCenters, antialias: g.resize.antialias },
    };
    const rgb = preprocessToRgb(args.image, g.appliedOrientation, spec);
    if (rgb.width !== W || rgb.height !== H) continue;
    const edge = toPlanar(args.edge.data, W, H, C, g.memoryOrder);
    const raw = fitPlanes(edge, modelPlanes(rgb, g, s.spec));
    const toSrgb = fitPlanes(edge, modelPlanes(convertRgb(rgb, space, SRGB), g, s.spec));
    const fromSrgb = fitPlanes(edge, modelPlanes(convertRgb(rgb, SRGB, space), g, s.spec));
    const [side, fit, other] = toSrgb.levels <= fromSrgb.levels ? (['edge', toSrgb, fromSrgb.levels] as const) : (['reference', fromSrgb, toSrgb.levels] as const);
    if (!best || fit.levels < best.fit.levels) best = { side, fit, raw, ex: g, other };
  }
  if (!best) return null;
  // The plain pixels' best fit: at this geometry, and the search's overall best.
  const plain = Math.min(best.raw.levels, s.best.residualLevels);
  const r = best.fit.levels;
  if (!(r <= EXPLAINED && plain - r >= MIN_GAIN_LEVELS && r <= MAX_RATIO * plain)) return null;

  const what =
    best.side === 'edge'
      ? 'the edge converted it to sRGB (a colour-managed decoder: canvas/createImageBitmap by default, sharp by default) while the reference used the raw values'
      : "the edge fed the raw values (createImageBitmap with colorSpaceConversion 'none', PIL, a decoder ignoring the profile) while the reference's photo was converted to sRGB";
  const explained = r <= 3 ? 1 : 0.85;
  return {
    cause: {
      code: 'colour-profile',
      confidence: conf(Math.min(0.97, (0.5 + 0.5 * (1 - r / plain)) * explained)),
      detail: `the photo carries a ${space.name} ICC profile ("${profile}"): ${what}; the conversion explains the edge input to ${sig(r, 2)} levels rms, the pixels as they are only to ${sig(plain, 2)}`,
      evidence: {
        profile,
        colourSpace: space.name,
        convertedSide: best.side,
        residualLevels: sig(r),
        unconvertedResidualLevels: sig(plain),
        otherDirectionResidualLevels: sig(best.other),
      },
    },
    explanation: { ...best.ex, affine: best.fit.affine, residualLevels: r },
  };
}
