/**
 * Resource limits on what a model card asks for (docs/limits.md), checked when the card is loaded,
 * before any image is decoded or tensor allocated: a card asking for a 30000×30000 pre-processing output
 * would otherwise allocate gigabytes.
 */
import { ExrayInputError } from '../errors.ts';
import { LIMIT_ENV, limits } from '../limits.ts';
import type { ModelCard } from './card-schema.ts';

export function checkCardLimits(card: ModelCard, file: string): void {
  const max = limits().preprocessPixels;
  card.inputs.forEach((input, i) => {
    const pp = input.preprocess;
    if (!pp) return;
    const pixels = pp.width * pp.height;
    if (pixels > max) {
      throw new ExrayInputError(
        file,
        `inputs[${i}].preprocess asks for a ${pp.width}×${pp.height} output (${pixels.toLocaleString('en-US')} pixels), over the limit of ${max.toLocaleString('en-US')} (${LIMIT_ENV.preprocessPixels} raises it)`,
      );
    }
  });
}
