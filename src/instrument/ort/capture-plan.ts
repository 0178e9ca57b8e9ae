/**
 * The memory budget of a capture: how many bytes exposing a set of node outputs costs, where each
 * output's size comes from, and how the selected nodes split into passes that each fit the budget.
 * Pure (page, worker, Node).
 *
 * A pass's cost is, per exposed output, twice its size in its own element type (the runtime's buffer
 * and the copy the JS binding hands back: onnxruntime-node and onnxruntime-web both copy every output
 * out of native / wasm memory before `run()` resolves), plus the largest output once more as float32
 * (a copy made one output at a time: an int64 / float16 value widened for the trace, or the statistics
 * kernel's copy of a float32 one; float32 and int32 values are no longer copied for the trace itself). The model's own outputs come back from every pass
 * and are counted in each.
 */
import type { OnnxGraphInfo, OnnxNode } from '../../onnx/model.ts';
import type { RawKernel } from './profile.ts';

/** Where an output's size came from. */
export type SizeSource = 'value_info' | 'profiler' | 'inputs' | 'measured';

export interface ValueSize {
  elements: number;
  /** Bytes per element in the runtime (its ONNX element type; 4 when unknown). */
  elementBytes: number;
  from: SizeSource;
}

/** A node whose outputs alone do not fit the budget. */
export class CaptureBudgetError extends RangeError {
  override name = 'CaptureBudgetError';
}

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/** Bytes of one element of an ONNX element type (4 for unknown types: float32, the common case). */
export function onnxElementBytes(elemType: number): number {
  return ELEMENT_BYTES[elemType] ?? 4;
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** What one output costs in a pass (see the module comment), without the pass-wide float32 copy. */
export function valueCost(s: ValueSize): number {
  return 2 * s.elements * s.elementBytes;
}

/**
 * Every node output's size, best source first: a fully static shape in the model (graph outputs and
 * value_info); the profiler's output shape of the node's own kernel (a fused kernel carries its first
 * node's name and its last node's output, the same size for the element-wise ops ORT fuses; blocked
 * NCHWc shapes only pad channels, so they over-estimate); else the largest of the node's inputs
 * (element-wise, normalisation and activation nodes keep their input's size), else the model input's.
 * `measured` sizes (from an earlier pass) override all.
 */
export function estimateSizes(
  info: OnnxGraphInfo,
  kernels: readonly RawKernel[],
  owners: readonly (string | null)[],
  inputElements: ReadonlyMap<string, number>,
  measured: ReadonlyMap<string, ValueSize>,
  /** The nodes whose outputs are sized (default the main graph's; a capture of bodies passes them too). */
  nodes: readonly OnnxNode[] = info.nodes,
): Map<string, ValueSize> {
  const sizes = new Map<string, ValueSize>();
  for (const [name, elements] of inputElements) {
    const t = info.valueTypes.get(name);
    sizes.set(name, { elements, elementBytes: onnxElementBytes(t?.elemType ?? 1), from: 'value_info' });
  }
  const kernelOf = new Map<string, RawKernel>();
  kernels.forEach((k, i) => {
    const o = owners[i];
    if (o && !kernelOf.has(o)) kernelOf.set(o, k);
  });
  const largestInput = Math.max(0, ...inputElements.values());
  for (const n of nodes) {
    n.outputs.forEach((v, k) => {
      const m = measured.get(v);
      if (m) return sizes.set(v, m);
      const t = info.valueTypes.get(v);
      const elementBytes = onnxElementBytes(t?.elemType ?? 1);
      if (t?.shape && t.shape.every((d): d is number => d !== null)) return sizes.set(v, { elements: product(t.shape), elementBytes, from: 'value_info' });
      const shape = kernelOf.get(n.name)?.outputShapes[k];
      if (shape) return sizes.set(v, { elements: product(shape), elementBytes, from: 'profiler' });
      // Concat's output is its inputs together; other ops without a shape keep their largest input's size.
      let elements = 0;
      for (const input of n.inputs) {
        const e = sizes.get(input)?.elements ?? 0;
        elements = n.op === 'Concat' ? elements + e : Math.max(elements, e);
      }
      return sizes.set(v, { elements: elements > 0 ? elements : largestInput, elementBytes, from: 'inputs' });
    });
  }
  return sizes;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Cost of one node's outputs in a pass, and its largest output (for the float32 copy). */
export function nodeCost(n: OnnxNode, sizes: ReadonlyMap<string, ValueSize>, exposed: ReadonlySet<string>): { bytes: number; largest: number } {
  let bytes = 0;
  let largest = 0;
  for (const v of n.outputs) {
    if (!exposed.has(v)) continue;
    const s = sizes.get(v);
    if (!s) continue;
    bytes += valueCost(s);
    largest = Math.max(largest, s.elements * 4);
  }
  return { bytes, largest };
}

/**
 * The next pass: nodes `todo[from…]` in order while the pass's cost stays within `budget`. `base` is
 * what every pass costs anyway (the model's own outputs). Throws CaptureBudgetError when the first
 * node does not fit alone.
 */
export function nextPass(
  todo: readonly OnnxNode[],
  from: number,
  sizes: ReadonlyMap<string, ValueSize>,
  exposed: ReadonlySet<string>,
  base: { bytes: number; largest: number },
  budget: number,
): { end: number; bytes: number } {
  let bytes = base.bytes;
  let largest = base.largest;
  let end = from;
  for (; end < todo.length; end++) {
    const c = nodeCost(todo[end]!, sizes, exposed);
    const total = bytes + c.bytes + Math.max(largest, c.largest);
    if (total > budget) {
      if (end > from) break;
      const n = todo[end]!;
      const detail = n.outputs
        .filter((v) => exposed.has(v) && sizes.has(v))
        .map((v) => {
          const s = sizes.get(v)!;
          return `${v}: ${s.elements.toLocaleString('en-US')} elements × ${s.elementBytes} bytes (size from ${s.from})`;
        })
        .join(', ');
      throw new CaptureBudgetError(
        `node ${n.name} (${n.op}) needs ${formatBytes(total)} to capture (${detail}; with the model's outputs and the copies), over the memory budget of ${formatBytes(budget)}: raise --max-memory or leave it out with --nodes`,
      );
    }
    bytes += c.bytes;
    largest = Math.max(largest, c.largest);
  }
  return { end, bytes: bytes + largest };
}

/** The default budget in a page or worker: a quarter of `navigator.deviceMemory` (GiB, ≤ 8), else 1 GiB. */
export function defaultPageBudget(): number {
  const gib = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
  return typeof gib === 'number' && gib > 0 ? Math.max(256 * 1024 ** 2, (Math.min(gib, 8) * 1024 ** 3) / 4) : 1024 ** 3;
}

/** What the model's own outputs cost in every pass (they come back from each run). */
export function graphOutputCost(info: OnnxGraphInfo, sizes: ReadonlyMap<string, ValueSize>): { bytes: number; largest: number } {
  let bytes = 0;
  let largest = 0;
  for (const o of info.outputs) {
    const s = sizes.get(o.name);
    if (!s) continue;
    bytes += valueCost(s);
    largest = Math.max(largest, s.elements * 4);
  }
  return { bytes, largest };
}
