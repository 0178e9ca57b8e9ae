/**
 * The page's state, outside React: ML work is started by the controller (controller.ts), never by a
 * component effect, so React StrictMode's double effects cannot start a run twice (BROWSER.md pitfall 1).
 * Components read it with `useApp()`. `setState` renders at once; changes inside runs (`touch`) are
 * batched to at most one render per ~30 ms while events stream in.
 */
import { useSyncExternalStore } from 'react';
import type { PrecisionPreset } from '../../compare/index.ts';
import type { CaptureMode, PreprocessSpec } from '../../trace/types.ts';
import type { FileProblem, LoadedModel } from '../load/model.ts';
import type { SampleIndex } from '../load/sample-index.ts';
import type { TensorSlot } from '../load/tensor-inputs.ts';
import { DEFAULT_BACKEND_OPTIONS, type BackendName, type BackendOptions, type BackendProbe, type PreparedInput } from '../worker/protocol.ts';
import type { RunState } from './run-state.ts';

export interface PhotoChoice {
  blob: Blob;
  name: string;
  /** Object URL of the original photo, for display. */
  url: string;
  /** A bundled sample photo (`name` is its file name under /samples/). */
  sample?: boolean;
}

export interface AppState {
  index: SampleIndex | null;
  indexError: string | null;
  backends: BackendProbe[] | null;
  model: LoadedModel | null;
  /** Name of what is being loaded, or null. */
  modelLoading: string | null;
  modelProblems: FileProblem[];
  spec: PreprocessSpec | null;
  specFromCard: boolean;
  photo: PhotoChoice | null;
  input: PreparedInput | null;
  inputBusy: boolean;
  inputError: string | null;
  /** Model inputs fed with a tensor (not the photo), by input name: load/tensor-inputs.ts. */
  tensors: Record<string, TensorSlot>;
  selected: BackendName[];
  options: BackendOptions;
  capture: CaptureMode;
  /** Phone page, `tensors` runs: node values sent to exray serve exact or narrowed (half the bytes). */
  linkPrecision: 'float32' | 'float16' | 'bfloat16';
  preset: PrecisionPreset;
  /** Timed runs per backend (whole-inference median). */
  timedRuns: number;
  /** Reference first, then edges in the order they were started (or opened). */
  runs: RunState[];
  running: boolean;
  /** `live`: runs made on this page; `files`: opened `.exray` traces. */
  source: 'live' | 'files';
  selectedRun: string | null;
  /** `name:outputIndex` of the node being inspected. */
  selectedNode: string | null;
  notice: string | null;
  version: number;
}

let state: AppState = {
  index: null,
  indexError: null,
  backends: null,
  model: null,
  modelLoading: null,
  modelProblems: [],
  spec: null,
  specFromCard: false,
  photo: null,
  input: null,
  inputBusy: false,
  inputError: null,
  tensors: {},
  selected: ['cpu', 'wasm'],
  options: DEFAULT_BACKEND_OPTIONS,
  capture: 'tensors',
  linkPrecision: 'float32',
  preset: 'float32',
  timedRuns: 5,
  runs: [],
  running: false,
  source: 'live',
  selectedRun: null,
  selectedNode: null,
  notice: null,
  version: 0,
};

const listeners = new Set<() => void>();
let scheduled: ReturnType<typeof setTimeout> | null = null;

/** What one render of the page costs lately (ms, smoothed): streaming renders are spaced by it. */
let renderCost = 0;

function flush(): void {
  scheduled = null;
  const t0 = performance.now();
  for (const l of [...listeners]) l();
  // React renders a store change in a microtask of this same task: measure once that has run.
  queueMicrotask(() => queueMicrotask(() => {
    renderCost = 0.7 * renderCost + 0.3 * (performance.now() - t0);
  }));
}

export function getState(): AppState {
  return state;
}

/** Replace fields and render now (controlled inputs must see their new value within the event). */
export function setState(patch: Partial<AppState>): void {
  state = { ...state, ...patch, version: state.version + 1 };
  if (scheduled !== null) clearTimeout(scheduled);
  flush();
}

/**
 * Something inside a RunState changed: render within ~30 ms (batched while events stream in). When a
 * render gets heavy (every row of a finished run re-rendered as the reference fills in its columns),
 * renders are spaced by twice their cost, so streaming never takes more than about a third of the main
 * thread and the page keeps answering.
 */
export function touch(): void {
  state = { ...state, version: state.version + 1 };
  scheduled ??= setTimeout(flush, Math.max(30, Math.min(1000, 2 * renderCost)));
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useApp(): AppState {
  return useSyncExternalStore(subscribe, getState, getState);
}
