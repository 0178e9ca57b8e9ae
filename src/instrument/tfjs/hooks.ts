/**
 * Per-node hooks for TF.js models. A hook calls `onNodeStart` / `onNodeEnd` around every executed
 * graph node (GraphModel) or leaf layer (LayersModel); `uninstall()` restores the model exactly.
 *
 * Node ends are seen while the node's outputs are still alive (before the executor disposes anything),
 * so a listener can read or keep them.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { graphExecutorOf, isGraphExecutor, type GraphExecutorInternal, type GraphNodeInternal, type TensorsMap } from './internals.ts';

export interface NodeVisit {
  name: string;
  op: string;
  inputs: string[];
  outputs: (Tensor | null)[];
}

export interface NodeListener {
  /** Called when a node begins (LayersModel only: graph nodes are only seen when they end). */
  onNodeStart?(name: string): void;
  onNodeEnd(visit: NodeVisit): void;
}

export interface ModelHook {
  uninstall(): void;
}

export type TfjsModel = GraphModel | LayersModel;

export function isGraphModel(model: TfjsModel): model is GraphModel {
  return typeof (model as Partial<GraphModel>).executeAsync === 'function' && 'executor' in model;
}

export function installHook(model: TfjsModel, listener: NodeListener): ModelHook {
  return isGraphModel(model) ? installGraphHook(model, listener) : installLayersHook(model, listener);
}

// ---------------------------------------------------------------------------------------------
// GraphModel
// ---------------------------------------------------------------------------------------------

function installGraphHook(model: GraphModel, listener: NodeListener): ModelHook {
  const restores: (() => void)[] = [];
  const seen = new Set<GraphExecutorInternal>();
  const patch = (executor: GraphExecutorInternal, prefix: string): void => {
    if (seen.has(executor)) return;
    seen.add(executor);
    // Repeated names (loop iterations) get a `#k` suffix so every visit stays addressable.
    const visits = new Map<string, number>();
    const emit = (nodeName: string, node: GraphNodeInternal, tensorMap: TensorsMap): void => {
      const k = visits.get(nodeName) ?? 0;
      visits.set(nodeName, k + 1);
      const name = prefix + (k === 0 ? nodeName : `${nodeName}#${k}`);
      listener.onNodeEnd({
        name,
        op: node.op,
        inputs: node.inputs.map((n) => prefix + n.name),
        outputs: (tensorMap[nodeName] ?? []).map((t) => t ?? null),
      });
    };
    const own = Object.prototype.hasOwnProperty;
    const syncOwn = own.call(executor, 'checkTensorForDisposalWithNodeLiveUntilInfo');
    const asyncOwn = own.call(executor, 'checkTensorForDisposal');
    const origSync = executor.checkTensorForDisposalWithNodeLiveUntilInfo;
    const origAsync = executor.checkTensorForDisposal;
    executor.checkTensorForDisposalWithNodeLiveUntilInfo = function (node, tensorMap, ...rest) {
      emit(node.name, node, tensorMap);
      return origSync.call(this, node, tensorMap, ...rest);
    };
    executor.checkTensorForDisposal = function (nodeName, node, tensorMap, ...rest) {
      emit(nodeName, node, tensorMap);
      return origAsync.call(this, nodeName, node, tensorMap, ...rest);
    };
    restores.push(() => {
      if (syncOwn) executor.checkTensorForDisposalWithNodeLiveUntilInfo = origSync;
      else delete (executor as Partial<GraphExecutorInternal>).checkTensorForDisposalWithNodeLiveUntilInfo;
      if (asyncOwn) executor.checkTensorForDisposal = origAsync;
      else delete (executor as Partial<GraphExecutorInternal>).checkTensorForDisposal;
    });
    for (const [fnName, sub] of Object.entries(executor.functionExecutorMap ?? {})) {
      if (isGraphExecutor(sub)) patch(sub, `${prefix}${fnName}/`);
    }
  };
  patch(graphExecutorOf(model), '');
  return { uninstall: () => restores.reverse().forEach((r) => r()) };
}

// ---------------------------------------------------------------------------------------------
// LayersModel: every leaf layer's `call` is wrapped; nested models are walked, names `outer/inner`.
// ---------------------------------------------------------------------------------------------

interface LayerLike {
  name: string;
  getClassName(): string;
  call: (inputs: unknown, kwargs: unknown) => Tensor | Tensor[];
  layers?: LayerLike[];
  inboundNodes?: { inboundLayers: LayerLike[] }[];
}

function installLayersHook(model: LayersModel, listener: NodeListener): ModelHook {
  const restores: (() => void)[] = [];
  const walk = (layers: LayerLike[], prefix: string): void => {
    for (const layer of layers) {
      if (Array.isArray(layer.layers) && layer.layers.length > 0) {
        walk(layer.layers, `${prefix}${layer.name}/`);
        continue;
      }
      if (layer.getClassName() === 'InputLayer') continue;
      const name = prefix + layer.name;
      const op = layer.getClassName();
      const inputs = (layer.inboundNodes ?? []).flatMap((n) => n.inboundLayers.map((l) => prefix + l.name));
      const hadOwn = Object.prototype.hasOwnProperty.call(layer, 'call');
      const orig = layer.call;
      layer.call = function (this: LayerLike, x: unknown, kwargs: unknown) {
        listener.onNodeStart?.(name);
        const out = orig.call(this, x, kwargs);
        listener.onNodeEnd({ name, op, inputs, outputs: Array.isArray(out) ? out : [out] });
        return out;
      };
      restores.push(() => {
        if (hadOwn) layer.call = orig;
        else delete (layer as Partial<LayerLike>).call;
      });
    }
  };
  walk((model as unknown as LayerLike).layers ?? [], '');
  return { uninstall: () => restores.reverse().forEach((r) => r()) };
}

/** The nodes a model declares: graph nodes that compute (no Const / Placeholder), or leaf layers. */
export function declaredNodeCount(model: TfjsModel): number {
  if (isGraphModel(model)) {
    const nodes = Object.values(graphExecutorOf(model).graph.nodes);
    return nodes.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder').length;
  }
  let count = 0;
  const walk = (layers: LayerLike[]): void => {
    for (const l of layers) {
      if (Array.isArray(l.layers) && l.layers.length > 0) walk(l.layers);
      else if (l.getClassName() !== 'InputLayer') count++;
    }
  };
  walk((model as unknown as LayerLike).layers ?? []);
  return count;
}
