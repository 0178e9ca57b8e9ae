/**
 * Cross-field rules of a trace header (layer 3 of schema.ts): execution order, unique node names,
 * kernel indices and attribution, shape products vs blob lengths and stats counts, blob references
 * that agree with each other. Pure: no DOM, no Node.
 */
import type { BlobRef, TensorRecord, TraceHeader } from './types.ts';

/** Every place a header references a blob, with its JSON path. */
export interface BlobUse {
  path: string;
  ref: BlobRef;
  shape: number[];
}

/** All blob references of a header, in header order (input tensors, node outputs, model outputs). */
export function blobUses(header: TraceHeader): BlobUse[] {
  const uses: BlobUse[] = [];
  header.input.tensors.forEach((t, i) => {
    if (t.blob) uses.push({ path: `input.tensors[${i}].blob`, ref: t.blob, shape: t.shape });
  });
  header.nodes.forEach((n, i) => {
    n.outputs.forEach((t, j) => {
      if (t.blob) uses.push({ path: `nodes[${i}].outputs[${j}].blob`, ref: t.blob, shape: t.shape });
    });
  });
  header.outputs.forEach((t, i) => {
    if (t.blob) uses.push({ path: `outputs[${i}].blob`, ref: t.blob, shape: t.shape });
  });
  return uses;
}

function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

const MAX_PROBLEMS = 1000;

function tensorProblems(t: TensorRecord, path: string, out: string[]): void {
  const size = shapeSize(t.shape);
  if (t.blob && t.blob.length !== size) {
    out.push(`${path}.blob.length is ${t.blob.length} but shape ${shapeText(t.shape)} has ${size} elements`);
  }
  const s = t.stats;
  if (!s) return;
  if (s.count !== size) {
    out.push(`${path}.stats.count is ${s.count} but shape ${shapeText(t.shape)} has ${size} elements`);
  }
  const finite = s.count - s.nanCount - s.infCount;
  if (finite < 0) out.push(`${path}.stats: nanCount + infCount (${s.nanCount + s.infCount}) exceeds count (${s.count})`);
  if (s.zeroCount > Math.max(0, finite)) {
    out.push(`${path}.stats.zeroCount (${s.zeroCount}) exceeds the number of finite values (${Math.max(0, finite)})`);
  }
  const binned = s.histogram.counts.reduce((a, b) => a + b, 0);
  if (finite >= 0 && binned !== finite) {
    out.push(`${path}.stats.histogram.counts sum to ${binned} but the tensor has ${finite} finite values`);
  }
  const nanFields = (['min', 'max', 'mean', 'std'] as const).filter((k) => Number.isNaN(s[k]));
  if (finite > 0 && nanFields.length > 0) {
    out.push(`${path}.stats.${nanFields[0]} is null but the tensor has ${finite} finite values`);
  }
  if (finite === 0 && nanFields.length < 4) {
    out.push(`${path}.stats: min, max, mean and std must be null when the tensor has no finite value`);
  }
  if (s.min > s.max) out.push(`${path}.stats.min (${s.min}) is greater than stats.max (${s.max})`);
}

/**
 * Cross-field rules of a schema-valid header; returns every problem found (empty when valid).
 * Exported for producers that want to check a header before writing it.
 */
export function headerProblems(h: TraceHeader): string[] {
  const out: string[] = [];
  const nodeByName = new Map<string, number>();
  h.nodes.forEach((n, i) => {
    const prevIndex = i > 0 ? h.nodes[i - 1]!.index : -1;
    if (n.index <= prevIndex) {
      out.push(`nodes[${i}].index is ${n.index}, not greater than nodes[${i - 1}].index (${prevIndex}); nodes must be stored in execution order`);
    }
    const prev = nodeByName.get(n.name);
    if (prev !== undefined) out.push(`nodes[${i}].name '${n.name}' duplicates nodes[${prev}].name`);
    else nodeByName.set(n.name, i);
  });
  h.kernels.forEach((k, i) => {
    if (k.index !== i) {
      out.push(`kernels[${i}].index is ${k.index}; kernels must be stored in execution order, index equal to position`);
    }
    if (k.clock === 'unavailable' && k.ms !== null) out.push(`kernels[${i}].ms must be null when clock is 'unavailable'`);
    if (k.clock !== 'unavailable' && k.ms === null) {
      out.push(`kernels[${i}].ms is null but clock is '${k.clock}' (null is only allowed with clock 'unavailable')`);
    }
  });
  h.nodes.forEach((n, i) => {
    n.kernels.forEach((ki, j) => {
      const k = h.kernels[ki];
      if (k === undefined) {
        out.push(`nodes[${i}].kernels[${j}] is ${ki}, out of range: the trace has ${h.kernels.length} kernels`);
      } else if (k.node !== n.name) {
        out.push(`nodes[${i}].kernels[${j}] is kernel ${ki}, whose node is ${k.node === null ? 'null' : `'${k.node}'`}, not '${n.name}'`);
      }
    });
    n.outputs.forEach((t, j) => tensorProblems(t, `nodes[${i}].outputs[${j}]`, out));
  });
  h.input.tensors.forEach((t, i) => {
    if (!t.blob) out.push(`input.tensors[${i}].blob is required (input tensors always carry their values)`);
    tensorProblems(t, `input.tensors[${i}]`, out);
  });
  h.outputs.forEach((t, i) => {
    if (!t.blob) out.push(`outputs[${i}].blob is required (model outputs always carry their values)`);
    tensorProblems(t, `outputs[${i}]`, out);
  });
  const firstUse = new Map<string, BlobUse>();
  for (const use of blobUses(h)) {
    const prev = firstUse.get(use.ref.id);
    if (prev === undefined) firstUse.set(use.ref.id, use);
    else if (prev.ref.encoding !== use.ref.encoding || prev.ref.length !== use.ref.length) {
      out.push(
        `${use.path} references blob '${use.ref.id}' as ${use.ref.encoding}[${use.ref.length}] but ${prev.path} references it as ${prev.ref.encoding}[${prev.ref.length}]`,
      );
    }
    if (out.length >= MAX_PROBLEMS) break;
  }
  return out;
}
