/**
 * Input tensors from files: `.npy` (NumPy v1–3, C order), `.json` and `.exray` (a trace's recorded
 * input). Every problem is an ExrayInputError naming the file. The parsing is pure and shared with the
 * page (src/trace/tensor-file.ts); this module reads the files.
 */
import { ExrayInputError } from '../errors.ts';
import { limits } from '../limits.ts';
import { readInputBytes } from '../read-input.ts';
import { parseJsonTensors, parseNpy, type FeedTensor } from '../trace/tensor-file.ts';

/** Read one tensor file. `name` names the tensor when the file does not (npy, single JSON tensor). */
export async function readTensorFile(path: string, name = 'input'): Promise<FeedTensor[]> {
  // A regular file within EXRAY_MAX_FILE_BYTES (docs/limits.md); tensor elements are checked by the parsers.
  const bytes = await readInputBytes(path);
  const max = limits().tensorElements;
  if (path.endsWith('.npy')) return [parseNpy(bytes, path, name, max)];
  if (path.endsWith('.json')) return parseJsonTensors(new TextDecoder().decode(bytes), path, name, max);
  throw new ExrayInputError(path, 'unknown tensor file type: use .npy, .json or an .exray trace');
}
