/** The sample models committed under `models/<name>/exray.json`. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ExrayInputError } from '../errors.ts';
import { CARD_FILE_NAME, loadModelCard, type ModelCard } from './card.ts';

export interface SampleModel {
  name: string;
  /** Absolute directory holding exray.json (and, once extracted, the model files). */
  dir: string;
  card: ModelCard;
}

/** Every `models/<name>/exray.json` under projectRoot, validated, sorted by name. */
export async function listSampleModels(projectRoot: string): Promise<SampleModel[]> {
  const modelsDir = path.resolve(projectRoot, 'models');
  let entries: string[];
  try {
    entries = await readdir(modelsDir);
  } catch {
    throw new ExrayInputError(modelsDir, 'models directory does not exist');
  }
  const out: SampleModel[] = [];
  for (const entry of entries.sort()) {
    const dir = path.join(modelsDir, entry);
    const cardPath = path.join(dir, CARD_FILE_NAME);
    const isCardDir = await stat(cardPath).then((s) => s.isFile(), () => false);
    if (!isCardDir) continue;
    const card = await loadModelCard(cardPath);
    if (card.name !== entry) throw new ExrayInputError(cardPath, `name is ${JSON.stringify(card.name)} but the card lives in models/${entry}/`);
    out.push({ name: entry, dir, card });
  }
  return out;
}
