/**
 * Per-node metrics as Google AI Edge Model Explorer "node data" JSON. Pure: no DOM, no Node.
 *
 * Model Explorer (github.com/google-ai-edge/model-explorer, node_data_builder.py and the UI's
 * NodeDataProviderGraphData) loads two shapes of node data file:
 * - graph node data: `{name?, results: {<node key>: {value, bgColor?, textColor?}}, thresholds?, gradient?}`
 * - model node data: `{<graph id>: <graph node data>, ...}`
 * A `results` key is matched against a node's id and against its output tensor names. `thresholds`
 * ([{value, bgColor, textColor?}], ascending) colour a node by the first threshold its value is <= to;
 * `gradient` ([{stop: 0..1, bgColor?, textColor?}], stops 0 and 1 required) interpolates between the
 * smallest and the largest value and takes precedence over thresholds.
 *
 * Keys used here: the trace node name (NodeRecord.name) by default, or `opts.key(node)`. See
 * docs/trace-format.md "Model Explorer node data" for which Model Explorer adapters use node names as
 * node ids.
 */
import type { NodeRecord, Trace } from '../types.ts';

export interface ModelExplorerResult {
  value: number;
  bgColor?: string;
  textColor?: string;
}

export interface ModelExplorerThreshold {
  value: number;
  bgColor: string;
  textColor?: string;
}

export interface ModelExplorerGradientStop {
  /** 0 = smallest value in `results`, 1 = largest. */
  stop: number;
  bgColor?: string;
  textColor?: string;
}

/** Node data of one graph (Model Explorer's GraphNodeData). */
export interface ModelExplorerGraphNodeData {
  name?: string;
  results: Record<string, ModelExplorerResult>;
  thresholds?: ModelExplorerThreshold[];
  gradient?: ModelExplorerGradientStop[];
}

/** Node data of a model, by graph id (Model Explorer's ModelNodeData). */
export type ModelExplorerModelNodeData = Record<string, ModelExplorerGraphNodeData>;

export interface ModelExplorerOptions {
  /** Display name of the metric in Model Explorer (default: the JSON file name). */
  name?: string;
  thresholds?: ModelExplorerThreshold[];
  gradient?: ModelExplorerGradientStop[];
  /** The results key of a node. Default: its name. */
  key?: (node: NodeRecord) => string;
}

/** Green (small) to red (large). */
export const GREEN_TO_RED: ModelExplorerGradientStop[] = [
  { stop: 0, bgColor: '#4caf50' },
  { stop: 0.5, bgColor: '#ffeb3b' },
  { stop: 1, bgColor: '#f44336' },
];

/**
 * Graph node data for a per-node metric. Nodes for which `metric` returns undefined or a non-finite
 * number are left out (JSON has no NaN or Infinity; map them to a finite value in `metric` if they
 * should be shown). Throws RangeError for malformed thresholds/gradient, which Model Explorer would
 * silently misrender.
 */
export function toModelExplorerNodeData(
  trace: Trace,
  metric: (node: NodeRecord) => number | undefined,
  opts: ModelExplorerOptions = {},
): ModelExplorerGraphNodeData {
  const key = opts.key ?? ((n: NodeRecord) => n.name);
  const results: Record<string, ModelExplorerResult> = {};
  for (const node of trace.header.nodes) {
    const value = metric(node);
    if (value === undefined || !Number.isFinite(value)) continue;
    results[key(node)] = { value };
  }
  const data: ModelExplorerGraphNodeData = { results };
  if (opts.name !== undefined) data.name = opts.name;
  if (opts.thresholds !== undefined) {
    const t = opts.thresholds;
    if (t.some((x, i) => !Number.isFinite(x.value) || (i > 0 && x.value <= t[i - 1]!.value))) {
      throw new RangeError('toModelExplorerNodeData: threshold values must be finite and strictly ascending');
    }
    data.thresholds = t.map((x) => ({ ...x }));
  }
  if (opts.gradient !== undefined) {
    const g = opts.gradient;
    const stops = g.map((x) => x.stop);
    if (stops.some((s, i) => !(s >= 0 && s <= 1) || (i > 0 && s <= stops[i - 1]!)) || stops[0] !== 0 || stops.at(-1) !== 1) {
      throw new RangeError('toModelExplorerNodeData: gradient stops must ascend from 0 to 1 (both included)');
    }
    data.gradient = g.map((x) => ({ ...x }));
  }
  return data;
}

/** Model node data: the graph node data of `toModelExplorerNodeData` under `graphId`. */
export function toModelExplorerModelNodeData(
  trace: Trace,
  metric: (node: NodeRecord) => number | undefined,
  graphId: string,
  opts: ModelExplorerOptions = {},
): ModelExplorerModelNodeData {
  return { [graphId]: toModelExplorerNodeData(trace, metric, opts) };
}
