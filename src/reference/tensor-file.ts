/**
 * Input tensors from files: `.npy` (NumPy v1–3, C order), `.json` and `.exray` (a trace's recorded
 * input). Every problem is an ExrayInputError naming the file. The parsing is pure and shared with the
 * page (src/trace/tensor-file.ts); this module reads the files.
 */
import { readFile } from 'node:fs/promises';
import { ExrayInputError } from '../errors.ts';
import { parseJsonTensors, parseNpy, type FeedTensor } from '../trace/tensor-file.ts';

/** Read one tensor file. `name` names the tensor when the file does not (npy, single JSON tensor). */
export async function readTensorFile(path: string, name = 'input'): Promise<FeedTensor[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new ExrayInputError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message);
  }
  if (path.endsWith('.npy')) return [parseNpy(bytes, path, name)];
  if (path.endsWith('.json')) return parseJsonTensors(new TextDecoder().decode(bytes), path, name);
  throw new ExrayInputError(path, 'unknown tensor file type: use .npy, .json or an .exray trace');
}
