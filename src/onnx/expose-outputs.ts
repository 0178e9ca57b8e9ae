/**
 * Rewriting a model so every node output of its main graph is a graph output (the capture model's
 * first step; values inside control-flow bodies are expose-subgraphs.ts's). Pure.
 */
import { clone, create } from '@bufbuild/protobuf';
import { ModelProtoSchema, ValueInfoProtoSchema, type ModelProto } from './proto/onnx-ml_pb.ts';
import { describeOnnx, type OnnxGraphInfo } from './describe.ts';

/** Ops whose outputs are not plain tensors (sequences, maps, optionals) when the model gives no type. */
export const NON_TENSOR_OPS: ReadonlySet<string> = new Set([
  'SequenceConstruct',
  'SequenceEmpty',
  'SequenceInsert',
  'SequenceErase',
  'SplitToSequence',
  'Optional',
  'ZipMap',
]);

export interface ExposedOutputs {
  /** The rewritten model (the input model is not modified). */
  model: ModelProto;
  /** Every value the rewritten model returns, in graph-output order: the original outputs first. */
  outputNames: string[];
  /** Node outputs that could not be exposed, with the reason. */
  skipped: { node: string; value: string; reason: string }[];
  /** Plain sentences for the trace's warnings. */
  warnings: string[];
}

/** How many names a warning lists before saying "and N more". */
const LIST_LIMIT = 40;

function listNames(names: string[]): string {
  const shown = names.slice(0, LIST_LIMIT).join(', ');
  return names.length > LIST_LIMIT ? `${shown}, … and ${names.length - LIST_LIMIT} more` : shown;
}

/**
 * Rewrite so every output of every computing node of the main graph is a graph output.
 *
 * - A new graph output takes its type from `value_info` when the model has one; otherwise its type is
 *   left unset and onnxruntime infers it (ORT accepts untyped graph outputs).
 * - `Constant` nodes (weights stored as nodes) are not exposed: they are not recorded as trace nodes,
 *   as TF.js `Const` nodes are not.
 * - Values inside subgraphs (`If` / `Loop` / `Scan` bodies) cannot be graph outputs directly: the
 *   warnings name them, unless `bodiesExposed` (expose-subgraphs.ts brings them out through their node).
 * - Values whose type is known not to be a tensor (sequence, map, optional), or produced by an op that
 *   returns one, are skipped (onnxruntime-web returns tensors only).
 */
export function exposeAllOutputs(model: ModelProto, info: OnnxGraphInfo = describeOnnx(model), only?: ReadonlySet<string>, bodiesExposed = false): ExposedOutputs {
  const out = clone(ModelProtoSchema, model);
  const g = out.graph!;
  const existing = new Set(g.output.map((o) => o.name));
  const outputNames = g.output.map((o) => o.name);
  const skipped: ExposedOutputs['skipped'] = [];
  const warnings: string[] = [];
  const valueInfo = new Map(g.valueInfo.map((vi) => [vi.name, vi]));

  for (const n of info.nodes) {
    // `only`: the nodes one capture pass exposes (--nodes, or a memory budget's subset); the others stay internal.
    if (only && !only.has(n.name)) continue;
    for (const v of n.outputs) {
      if (existing.has(v)) continue;
      const t = info.valueTypes.get(v);
      if (t && t.kind !== 'tensor') {
        skipped.push({ node: n.name, value: v, reason: `a ${t.kind}, not a tensor` });
        continue;
      }
      if (!t && NON_TENSOR_OPS.has(n.op)) {
        skipped.push({ node: n.name, value: v, reason: `${n.op} returns a non-tensor value` });
        continue;
      }
      const vi = valueInfo.get(v);
      g.output.push(vi ? clone(ValueInfoProtoSchema, vi) : create(ValueInfoProtoSchema, { name: v }));
      existing.add(v);
      outputNames.push(v);
    }
    // `bodiesExposed`: the caller climbs body values out too (expose-subgraphs.ts), which says what it cannot.
    if (n.subgraphValues.length > 0 && !bodiesExposed) {
      warnings.push(
        `node ${n.name} (${n.op}) runs ${n.subgraphNodes} node(s) in its subgraph(s); their ${n.subgraphValues.length} value(s) cannot be graph outputs and are not recorded: ${listNames(n.subgraphValues)}`,
      );
    }
  }
  if (skipped.length > 0) {
    warnings.push(`${skipped.length} node output(s) are not tensors and are not recorded: ${listNames(skipped.map((s) => `${s.value} (${s.reason})`))}`);
  }
  if (info.functions.length > 0) {
    warnings.push(`model-local function(s) ${listNames(info.functions)} run inside their calling nodes: only the calling node's outputs are recorded`);
  }
  return { model: out, outputNames, skipped, warnings };
}
