/**
 * An ONNX model for the page: the `.onnx` bytes, checked by decoding them (a corrupted or truncated
 * file, or one with external data, is refused with the file's name), and its first input described.
 * The page runs it with onnxruntime-web (worker/run-onnx.ts).
 */
import { ExrayInputError } from '../../errors.ts';
import type { ModelCard } from '../../models/card-schema.ts';
import { decodeOnnx, describeOnnx } from '../../onnx/model.ts';
import { ModelLoadError, sha256Hex, type LoadedModel } from './model.ts';

export async function onnxLoadedModel(bytes: ArrayBuffer, opts: { name: string; origin: LoadedModel['origin']; card: ModelCard | null; file: string; ignored?: string[] }): Promise<LoadedModel> {
  let inputs;
  try {
    inputs = describeOnnx(decodeOnnx(new Uint8Array(bytes), opts.file)).inputs;
  } catch (e) {
    if (e instanceof ExrayInputError) throw new ModelLoadError([{ file: e.file, problem: e.problem }]);
    throw new ModelLoadError([{ file: opts.file, problem: e instanceof Error ? e.message : String(e) }]);
  }
  const cardInput = opts.card?.inputs.find((i) => i.kind === 'image') ?? opts.card?.inputs[0];
  const first = (cardInput ? inputs.find((i) => i.name === cardInput.name) : undefined) ?? inputs[0];
  if (!first) throw new ModelLoadError([{ file: opts.file, problem: 'the ONNX model has no inputs' }]);
  if (inputs.length > 1) {
    const others = inputs.filter((i) => i !== first).map((i) => i.name);
    throw new ModelLoadError([{ file: opts.file, problem: `has ${inputs.length} inputs (${others.join(', ')} besides ${first.name}): the page feeds one image input; trace it with \`exray trace --input name=file …\`` }]);
  }
  return {
    name: opts.name,
    origin: opts.origin,
    card: opts.card,
    modelJson: {},
    shards: [],
    shardNames: [],
    bytes: bytes.byteLength,
    sha256: await sha256Hex([bytes]),
    format: 'onnx',
    onnx: bytes,
    inputName: first.name,
    // Symbolic dimensions (batch, width) are unknown here: the card's pre-processing fixes them.
    inputShape: first.shape,
    inputDtype: first.dtype,
    ignored: opts.ignored ?? [],
  };
}
