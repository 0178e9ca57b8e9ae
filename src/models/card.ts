/** Reading a model card from disk (Node). The schema and parser are in card-schema.ts (pure). */
import { readFile } from 'node:fs/promises';
import { ExrayInputError } from '../errors.ts';
import { parseModelCard, type ModelCard } from './card-schema.ts';

export * from './card-schema.ts';

/** Read, parse and validate `models/<name>/exray.json`. */
export async function loadModelCard(path: string): Promise<ModelCard> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ExrayInputError(path, `cannot read model card (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ExrayInputError(path, `is not valid JSON (${(e as Error).message})`);
  }
  return parseModelCard(json, path);
}
