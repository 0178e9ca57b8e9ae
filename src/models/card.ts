/** Reading a model card from disk (Node). The schema and parser are in card-schema.ts (pure). */
import { ExrayInputError } from '../errors.ts';
import { parseModelCard, type ModelCard } from './card-schema.ts';
import { checkCardLimits } from './card-limits.ts';
import { readInputBytes } from '../read-input.ts';

export * from './card-schema.ts';

/** Read, parse and validate `models/<name>/exray.json`. */
export async function loadModelCard(path: string): Promise<ModelCard> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readInputBytes(path));
  } catch (e) {
    if (e instanceof ExrayInputError) throw e;
    throw new ExrayInputError(path, `cannot read model card (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ExrayInputError(path, `is not valid JSON (${(e as Error).message})`);
  }
  const card = parseModelCard(json, path);
  checkCardLimits(card, path);
  return card;
}
