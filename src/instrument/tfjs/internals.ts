/**
 * The few TF.js internals exray reaches into, typed in one place so that a TF.js upgrade that moves
 * them fails here, loudly, and nowhere else. Checked against @tensorflow/* 4.22.
 *
 * - GraphModel keeps its GraphExecutor in the private field `executor`. After every executed node the
 *   executor calls `checkTensorForDisposalWithNodeLiveUntilInfo(node, tensorsMap, …)` (sync `execute`)
 *   or `checkTensorForDisposal(nodeName, node, tensorsMap, …)` (`executeAsync`), with the node's
 *   outputs already in `tensorsMap` and before anything is disposed: the one choke point where a node
 *   ends. Control-flow functions have their own executors in `functionExecutorMap`.
 * - The engine records kernels of `tf.profile` in `state.activeProfile.kernels` as they finish.
 */
import type { Tensor } from '@tensorflow/tfjs-core';

export interface GraphNodeInternal {
  name: string;
  op: string;
  inputs: GraphNodeInternal[];
  children: GraphNodeInternal[];
}

export type TensorsMap = Record<string, (Tensor | null | undefined)[] | undefined>;

export interface GraphExecutorInternal {
  graph: { nodes: Record<string, GraphNodeInternal> };
  functionExecutorMap?: Record<string, GraphExecutorInternal | unknown>;
  checkTensorForDisposalWithNodeLiveUntilInfo: (node: GraphNodeInternal, tensorMap: TensorsMap, ...rest: unknown[]) => void;
  checkTensorForDisposal: (nodeName: string, node: GraphNodeInternal, tensorMap: TensorsMap, ...rest: unknown[]) => void;
}

export interface ProfileKernelInternal {
  name: string;
  inputShapes: (number[] | null)[];
  outputShapes: number[][];
  kernelTimeMs: number | { error: string } | Promise<number | { error: string }>;
}

export interface EngineInternal {
  state: { profiling: boolean; activeProfile: { kernels: ProfileKernelInternal[] } };
  backendName: string;
}

export function graphExecutorOf(model: object): GraphExecutorInternal {
  const executor = (model as { executor?: unknown }).executor;
  if (!isGraphExecutor(executor)) {
    throw new Error(
      'exray: this GraphModel has no recognisable executor (TF.js internals changed?); tested with @tensorflow/tfjs-converter 4.22',
    );
  }
  return executor;
}

export function isGraphExecutor(x: unknown): x is GraphExecutorInternal {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Partial<GraphExecutorInternal>;
  return (
    typeof e.checkTensorForDisposal === 'function' &&
    typeof e.checkTensorForDisposalWithNodeLiveUntilInfo === 'function' &&
    typeof e.graph === 'object'
  );
}

export function profilingKernels(engine: unknown): ProfileKernelInternal[] | null {
  const state = (engine as Partial<EngineInternal>).state;
  if (!state || !state.profiling) return null;
  return state.activeProfile.kernels;
}
