/** Photo → the exact model input: decode (EXIF not applied), then the card's canonical pre-processing. */
import { decodeImageBlob } from '../../preprocess/decode-browser.ts';
import { preprocess } from '../../preprocess/pipeline.ts';
import type { PreprocessSpec } from '../../trace/types.ts';
import type { PreparedInput } from './protocol.ts';

export async function prepareInput(blob: Blob, fileName: string, spec: PreprocessSpec): Promise<PreparedInput> {
  const decoded = await decodeImageBlob(blob, fileName);
  const r = preprocess(decoded.image, decoded.source.exifOrientation, spec);
  return { data: r.data, shape: r.shape, dtype: r.dtype, source: decoded.source, preprocess: spec };
}
