/**
 * The model card `exray trace` uses (`--card`, or the one beside the model) against the model it
 * runs: the card's input and output names must be the model's, or the card describes another model
 * (its output kinds and labels would be applied to the wrong tensors, or to none). Checked on the
 * trace's `run-start` (the model loaded, nothing run yet), where both ONNX and TF.js models state
 * their inputs and outputs as the trace records them. Pure.
 */
import { ExrayInputError } from '../errors.ts';
import type { ModelCard } from '../models/card-schema.ts';
import type { ModelIdentity } from '../trace/types.ts';

/** TF.js names a graph model's tensors `node` or `node:0`; a card may use either. */
function bare(name: string): string {
  return name.replace(/:0$/, '');
}

/**
 * Whether a card's name is the model's. TF.js names a layers model's layers uniquely per process
 * (`dense_3_1` when a `dense_3` was loaded before): the suffixed name counts when the plain one is
 * not among the model's.
 */
function matches(card: string, model: string, format: ModelIdentity['format'], all: ReadonlySet<string>): boolean {
  if (format === 'onnx') return card === model;
  const c = bare(card);
  const m = bare(model);
  if (c === m) return true;
  return format === 'tfjs-layers' && !all.has(c) && new RegExp(`^${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_\\d+$`).test(m);
}

function quoted(names: readonly string[]): string {
  const shown = names.slice(0, 12).map((n) => JSON.stringify(n));
  return names.length > 12 ? `${shown.join(', ')} and ${names.length - 12} more` : shown.join(', ') || 'none';
}

/** The names of one side that do not match, or null when every name matches exactly once. */
function mismatch(card: readonly string[], model: readonly string[], format: ModelIdentity['format']): { onlyCard: string[]; onlyModel: string[] } | null {
  const all = new Set(model.map(bare));
  const used = new Set<number>();
  const onlyCard: string[] = [];
  for (const c of card) {
    const i = model.findIndex((m, k) => !used.has(k) && matches(c, m, format, all));
    if (i < 0) onlyCard.push(c);
    else used.add(i);
  }
  const onlyModel = model.filter((_, k) => !used.has(k));
  return onlyCard.length === 0 && onlyModel.length === 0 ? null : { onlyCard, onlyModel };
}

/**
 * Throw an ExrayInputError naming `cardPath` when the card's format, inputs or outputs are not the
 * model's (`model`: the trace's run-start model, `modelPath` names it): the names the model has
 * (expected) against the names the card gives (found).
 */
export function checkCardAgainstModel(card: ModelCard, cardPath: string, model: Pick<ModelIdentity, 'format' | 'inputs' | 'outputs'>, modelPath: string): void {
  const problems: string[] = [];
  const tfjs = (f: string): boolean => f.startsWith('tfjs');
  if (card.format !== model.format && !(tfjs(card.format) && tfjs(model.format))) {
    problems.push(`the card is for a ${card.format} model, ${modelPath} is ${model.format}`);
  }
  for (const side of ['inputs', 'outputs'] as const) {
    const cardNames = card[side].map((x) => x.name);
    const modelNames = model[side].map((x) => x.name);
    const m = mismatch(cardNames, modelNames, model.format);
    if (!m) continue;
    const detail = [
      m.onlyCard.length > 0 ? `not in the model: ${quoted(m.onlyCard)}` : '',
      m.onlyModel.length > 0 ? `not in the card: ${quoted(m.onlyModel)}` : '',
    ].filter(Boolean);
    problems.push(`its ${side} do not match the model's: expected ${quoted(modelNames)} (${modelPath}), found ${quoted(cardNames)} in the card (${detail.join('; ')})`);
  }
  if (problems.length > 0) {
    throw new ExrayInputError(cardPath, `this model card does not describe the model traced: ${problems.join('; ')}. Fix the card's names or pass the card of this model (--card)`);
  }
}
