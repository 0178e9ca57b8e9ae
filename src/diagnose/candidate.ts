/**
 * The search's best explanation rebuilt as images at the edge's resolution: the candidate RGB planes
 * and the edge tensor as planes. The search keeps only scores and fits; the rules that look at *where*
 * the edge differs (causes/decoder.ts) or weigh explanations the scores cannot tell apart
 * (competing.ts) need the pixels. One resize at model resolution: cheap next to the search. Pure.
 */
import type { RgbaImage } from '../preprocess/image.ts';
import { preprocessToRgb } from '../preprocess/pipeline.ts';
import { interleavedToPlanar, toPlanar, type Planar } from './fit.ts';
import type { InputSearch, InputSearchArgs } from './input-search.ts';

export interface Rebuilt {
  /** The best explanation's geometry, resize and alpha applied to the photo: RGB planes. */
  rgb: Planar;
  /** The edge tensor as model-channel planes, in the memory order the search found. */
  edge: Planar;
}

/** `image` through the best explanation's orientation, fit, resize and alpha at the edge's size (RGB planes). */
export function throughBest(image: RgbaImage, s: InputSearch, alpha = s.best.alpha): Planar {
  const { width: W, height: H } = s.geometry;
  const r = preprocessToRgb(image, s.best.appliedOrientation, { ...s.spec, width: W, height: H, exif: 'apply', fit: s.best.resize.fit, resize: s.best.resize, alpha });
  return interleavedToPlanar(r.data, W, H, 3);
}

export function rebuildBest(args: InputSearchArgs, s: InputSearch): Rebuilt {
  const { width: W, height: H, channels: C } = s.geometry;
  return { rgb: throughBest(args.image, s), edge: toPlanar(args.edge.data, W, H, C, s.best.memoryOrder) };
}
