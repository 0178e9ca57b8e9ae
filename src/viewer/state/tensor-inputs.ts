/**
 * Giving tensor inputs (load/tensor-inputs.ts) from event handlers: a picked or dropped `.npy` /
 * `.json`, the card's default, zeros, a bundled sample set. A new tensor makes earlier runs
 * incomparable (as a new photo does): they are dropped. A bad file never throws out of here: its
 * problem lands in its slot (or is returned, when no slot can be told).
 */
import { ExrayInputError } from '../../errors.ts';
import type { PickedFile } from '../load/dropped-files.ts';
import { cardDefault, sampleTensorUrl, tensorsFromFile, zerosFor, type GivenTensor, type TensorInputSpec, type TensorSampleSet, type TensorSlot } from '../load/tensor-inputs.ts';
import { cancelRuns } from './runs.ts';
import { getState, setState } from './store.ts';

function specs(): TensorInputSpec[] {
  return getState().model?.tensorInputs ?? [];
}

/** Put tensors / errors into slots and drop the runs made with the old inputs. */
function update(patch: Record<string, TensorSlot>): void {
  if (getState().running) cancelRuns();
  setState({ tensors: { ...getState().tensors, ...patch }, runs: [], selectedRun: null, selectedNode: null, source: 'live' });
}

function message(e: unknown, file: string): string {
  if (e instanceof ExrayInputError) return `${e.file}: ${e.problem}`;
  return `${file}: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * Tensor files for the model's inputs. With `target` (a row's picker or drop zone) a single-tensor
 * file feeds that input; without, each file feeds the input of its name (`state.npy`, JSON names).
 * Returns the problems that belong to no input row.
 */
export async function giveTensorFiles(files: PickedFile[], target?: string): Promise<string[]> {
  const list = specs();
  const patch: Record<string, TensorSlot> = {};
  const loose: string[] = [];
  for (const f of files) {
    const base = f.path.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
    const slotOfFile = target ?? list.find((s) => s.name === base)?.name;
    try {
      const bytes = new Uint8Array(await f.file.arrayBuffer());
      for (const t of tensorsFromFile(bytes, f.path, list, target)) patch[t.name] = { tensor: t, error: null };
    } catch (e) {
      const msg = message(e, f.path);
      if (slotOfFile) patch[slotOfFile] = { tensor: null, error: msg };
      else loose.push(msg);
    }
  }
  if (Object.keys(patch).length > 0) update(patch);
  return loose;
}

/** The card's `fill` default, or zeros, for one input. */
export function setDefaultTensor(name: string, kind: 'card' | 'zeros'): void {
  const spec = specs().find((s) => s.name === name);
  if (!spec) return;
  const t = kind === 'card' ? cardDefault(spec) : zerosFor(spec);
  if (t) update({ [name]: { tensor: t, error: null } });
}

export function clearTensor(name: string): void {
  update({ [name]: { tensor: null, error: null } });
}

/** A bundled sample set: its files for the inputs it lists, the card's defaults for the others. */
export async function applySampleSet(model: string, set: TensorSampleSet): Promise<void> {
  const list = specs();
  const patch: Record<string, TensorSlot> = {};
  for (const spec of list) {
    const file = set.files[spec.name];
    if (!file) {
      const d = cardDefault(spec);
      if (d) patch[spec.name] = { tensor: d, error: null };
      continue;
    }
    const url = sampleTensorUrl(model, file);
    try {
      const res = await fetch(url);
      if (!res.ok) throw new ExrayInputError(url, `could not be fetched (HTTP ${res.status})`);
      const [t] = tensorsFromFile(new Uint8Array(await res.arrayBuffer()), url, list, spec.name);
      if (!t) throw new ExrayInputError(url, 'holds no tensor');
      const sample: GivenTensor = { ...t, origin: `${set.name}: ${file}` };
      patch[spec.name] = { tensor: sample, error: null };
    } catch (e) {
      patch[spec.name] = { tensor: null, error: message(e, url) };
    }
  }
  update(patch);
}

/** Files dropped on the page that are tensors for the model's inputs: `.npy`, and `.json` named like an input. */
export function tensorFilesOf(files: PickedFile[]): PickedFile[] {
  const names = new Set(specs().map((s) => s.name));
  if (names.size === 0) return [];
  return files.filter((f) => /\.npy$/i.test(f.path) || (/\.json$/i.test(f.path) && names.has(f.path.replace(/^.*\//, '').replace(/\.json$/i, ''))));
}
