/**
 * An ONNX model for the page: the `.onnx` bytes, checked by decoding them (a corrupted or truncated
 * file, or one with external data, is refused with the file's name), and its inputs described: the
 * image input (the card's `kind: "image"` input; without a card, the first input of rank 4), fed by
 * the photo, and every other input, fed by a tensor (load/tensor-inputs.ts). The page runs it with
 * onnxruntime-web (worker/run-onnx.ts).
 */
import { ExrayInputError } from '../../errors.ts';
import { ortTypeOfOnnx } from '../../instrument/ort/tensors.ts';
import type { ModelCard } from '../../models/card-schema.ts';
import { decodeOnnx, describeOnnx, inputElemType, type OnnxGraphInfo } from '../../onnx/model.ts';
import type { IOSpec } from '../../trace/types.ts';
import { ModelLoadError, sha256Hex, type LoadedModel } from './model.ts';
import { tensorInputSpecs } from './tensor-inputs.ts';

/** The input the photo feeds, if any. */
function imageInput(info: OnnxGraphInfo, card: ModelCard | null): IOSpec | undefined {
  const inputs = info.inputs;
  if (card) {
    const c = card.inputs.find((i) => i.kind === 'image');
    if (!c) return undefined;
    return inputs.find((i) => i.name === c.name) ?? (inputs.length === 1 ? inputs[0] : undefined);
  }
  const rank = (i: IOSpec): number | undefined => info.valueTypes.get(i.name)?.shape?.length;
  return inputs.find((i) => rank(i) === 4 || rank(i) === undefined);
}

export async function onnxLoadedModel(bytes: ArrayBuffer, opts: { name: string; origin: LoadedModel['origin']; card: ModelCard | null; file: string; ignored?: string[] }): Promise<LoadedModel> {
  let info: OnnxGraphInfo;
  try {
    info = describeOnnx(decodeOnnx(new Uint8Array(bytes), opts.file));
  } catch (e) {
    if (e instanceof ExrayInputError) throw new ModelLoadError([{ file: e.file, problem: e.problem }]);
    throw new ModelLoadError([{ file: opts.file, problem: e instanceof Error ? e.message : String(e) }]);
  }
  if (info.inputs.length === 0) throw new ModelLoadError([{ file: opts.file, problem: 'the ONNX model has no inputs' }]);
  const image = imageInput(info, opts.card);
  const tensorInputs = tensorInputSpecs(
    info.inputs,
    (name) => info.valueTypes.get(name)?.shape?.length,
    (name) => {
      const t = inputElemType(info, name);
      return t ? ortTypeOfOnnx(t.elemType) : undefined;
    },
    opts.card,
    image?.name,
  );
  const shown = image ?? info.inputs[0]!;
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
    ...(image ? { inputName: image.name } : {}),
    ...(tensorInputs.length > 0 ? { tensorInputs } : {}),
    // Symbolic dimensions (batch, width) are unknown here: the card's pre-processing fixes them.
    inputShape: shown.shape,
    inputDtype: shown.dtype,
    ignored: opts.ignored ?? [],
  };
}
