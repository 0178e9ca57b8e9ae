/**
 * What the input search (input-search.ts) takes and returns: plain data, read by the cause rules in
 * ./causes. Pure.
 */
import type { BlobData, PreprocessSpec } from '../trace/types.ts';
import type { RgbaImage } from '../preprocess/image.ts';
import type { InputExplanation, MemoryOrder, ResizeChoice } from './types.ts';

export type Fit = PreprocessSpec['fit'];
export type Alpha = PreprocessSpec['alpha'];

export interface EdgeInput {
  data: BlobData;
  shape: number[];
}

export interface InputSearchArgs {
  /** The original photo's stored pixels (EXIF orientation not applied). */
  image: RgbaImage;
  /** The photo's EXIF orientation 1..8. */
  orientation: number;
  /** The card's (canonical) pre-processing. */
  spec: PreprocessSpec;
  /** What the edge fed the model. */
  edge: EdgeInput;
  /** Description of the photo's ICC profile (causes/colour-profile.ts); absent for untagged photos. */
  iccProfile?: string | undefined;
  /** The photo's MIME type: a JPEG's decoder differences are measured (causes/decoder.ts). */
  mimeType?: string;
}

export interface InputSearchOptions {
  /** Long side of the coarse comparison, px (default 32). */
  coarseSize?: number;
  /** Long side the photo is reduced to before the coarse candidates are built (default 160). */
  coarseSource?: number;
  /**
   * Which resize variants the fine stage scores: 'screened' (default) computes the antialiased
   * bicubic/Lanczos3 only when the others leave room for them; 'all' always; 'classic' is the set
   * before bicubic/Lanczos3 existed (the benchmark's anchor).
   */
  resizeSearch?: 'screened' | 'all' | 'classic';
}

/** One axis of the search: the value that explains best vs the value the card expects, with scores. */
export interface AxisEvidence<T> {
  best: T;
  expected: T;
  /** Score of the overall best candidate. */
  bestScore: number;
  /** Best score among candidates that keep this axis at the expected value (others free). */
  expectedScore: number;
}

export interface EdgeGeometry {
  width: number;
  height: number;
  channels: number;
  /** Memory order the recorded shape implies. */
  shapeOrder: MemoryOrder;
}

export interface InputSearch {
  spec: PreprocessSpec;
  sourceOrientation: number;
  geometry: EdgeGeometry;
  sizeMatches: boolean;
  /** Fraction of the photo's pixels with alpha < 255. */
  transparentFraction: number;
  /** Coarse axes (scores: mean 1 − r², 0 = perfect). */
  coarse: {
    orientation: AxisEvidence<number>;
    memoryOrder: AxisEvidence<MemoryOrder>;
    channels: AxisEvidence<number[]>;
    fit: AxisEvidence<Fit>;
    alpha: AxisEvidence<Alpha> | null;
  };
  /** Fine axes (scores: residual in pixel levels). */
  fine: {
    fit: AxisEvidence<Fit>;
    resize: AxisEvidence<ResizeChoice>;
    alpha: AxisEvidence<Alpha> | null;
    channels: AxisEvidence<number[]>;
    /** Residual of each resize variant tried (with the chosen fit), for the record. */
    resizeScores: { resize: ResizeChoice; levels: number }[];
  };
  best: InputExplanation;
  canonical: InputExplanation;
  /** rms |edge − canonical| in pixel levels; null when the sizes differ. */
  canonicalResidualLevels: number | null;
  ms: number;
  /** Wall time per stage, ms. */
  phases: { coarse: number; fine: number; canonical: number };
}
