/** Model input tensors as plain data: what a trace records and what a reference replays. */
import { ExrayInputError } from '../errors.ts';
import type { FeedTensor } from '../trace/tensor-file.ts';
import type { DType, IOSpec, Trace } from '../trace/types.ts';

export type { FeedTensor };

/** The exact input a trace recorded, ready to replay. */
export function feedFromTrace(trace: Trace, fileName: string): FeedTensor[] {
  return trace.header.input.tensors.map((t) => {
    const data = t.blob ? trace.blobs.get(t.blob.id) : undefined;
    if (!data) throw new ExrayInputError(fileName, `input "${t.name}" has no recorded values (blob missing)`);
    return { name: t.name, shape: [...t.shape], dtype: t.dtype, data };
  });
}

const INTEGER_DTYPES = new Set<DType>(['int32', 'int64', 'int8', 'uint8', 'bool']);

/**
 * Check a feed against the model's declared inputs (by name, else by position): count, shape (null =
 * any), dtype family. Returns the feed ordered as the model declares its inputs.
 */
export function checkFeed(specs: IOSpec[], feed: FeedTensor[], fileName: string): FeedTensor[] {
  if (feed.length !== specs.length) {
    throw new ExrayInputError(
      fileName,
      `model takes ${specs.length} input(s) (${specs.map((s) => s.name).join(', ')}), got ${feed.length} (${feed.map((f) => f.name).join(', ')})`,
    );
  }
  const byName = new Map(feed.map((f) => [f.name, f]));
  return specs.map((spec, k) => {
    const f = byName.get(spec.name) ?? (feed.length === 1 ? feed[0] : feed[k]);
    if (!f) throw new ExrayInputError(fileName, `no tensor for model input "${spec.name}"`);
    const n = f.shape.reduce((a, b) => a * b, 1);
    if (n !== f.data.length) {
      throw new ExrayInputError(fileName, `input "${f.name}": shape [${f.shape}] needs ${n} values, got ${f.data.length}`);
    }
    const shapeOk =
      spec.shape.length === 0 ||
      (spec.shape.length === f.shape.length && spec.shape.every((d, i) => d === null || d === f.shape[i]));
    if (!shapeOk) {
      throw new ExrayInputError(
        fileName,
        `input "${f.name}" has shape [${f.shape}], model input "${spec.name}" expects [${spec.shape.map((d) => d ?? '?')}]`,
      );
    }
    const wantInt = INTEGER_DTYPES.has(spec.dtype);
    const haveInt = INTEGER_DTYPES.has(f.dtype) || f.data instanceof Int32Array;
    if (wantInt !== haveInt) {
      throw new ExrayInputError(fileName, `input "${f.name}" has dtype ${f.dtype}, model input "${spec.name}" expects ${spec.dtype}`);
    }
    return { ...f, name: spec.name };
  });
}
