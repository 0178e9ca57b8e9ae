/**
 * What the agent's pieces hand each other. A runtime patch (tfjs.ts, ort.ts) turns one captured
 * inference into a CapturedRun; the agent (attach.ts) adds the model's identity and the raw image and
 * gives the finished trace to a sink (the `exray serve` socket, or a folder in Node).
 */
import type { ModelFiles } from './model-files.ts';
import type { BlobData, CaptureMode, Environment, IOSpec, ModelFormat, NamedTensor, NodeRecord, RuntimeInfo, TimingSummary } from '../trace/types.ts';

export interface CaptureSettings {
  /** `stats` (default): every node's statistics; `tensors`: every node's values too. */
  capture: Exclude<CaptureMode, 'timing'>;
  histogramBins: number;
}

/** The app's timing-only inferences of one model, as the trace's timing summary records them. */
export type RunTiming = TimingSummary | null;

export interface CapturedRun {
  /** The app's model object (the key of its identity). */
  model: object;
  format: ModelFormat;
  runtime: RuntimeInfo;
  environment: Environment;
  inputs: NamedTensor[];
  declaredInputs: IOSpec[];
  declaredOutputs: IOSpec[];
  nodeCount: number;
  nodes: NodeRecord[];
  outputs: NamedTensor[];
  blobs: Map<string, BlobData>;
  timing: RunTiming;
  /** Wall time of the captured inference itself (perturbed by the capture). */
  capturedMs: number;
  warnings: string[];
  /** The model's files and identity, when the patch knows them (ORT: the bytes given to `create`). */
  modelFiles?: () => Promise<ModelFiles | null>;
}

/** A captured inference handed to the agent: built later (GPU read-back is async), or released unbuilt. */
export interface PendingCapture {
  build(): Promise<CapturedRun>;
  release(): void;
}

/** What a runtime patch (tfjs.ts, ort.ts) asks of the agent. */
export interface AgentHost {
  /** 'capture' or 'timing' for this model's next inference. */
  decide(model: object): 'capture' | 'timing';
  /** A timing-only inference of `model` took `ms` (call to result; GPU backends: call to dispatch). */
  timed(model: object, ms: number, sync: boolean): void;
  settings(): CaptureSettings;
  /** A captured inference: its values are copied or cloned; the host builds it or releases it. */
  captured(model: object, capture: PendingCapture): void;
  /** Something went wrong inside the agent: reported, never thrown into the app. */
  problem(where: string, e: unknown): void;
  /** The agent's own clock. */
  now(): number;
  timingOf(model: object): RunTiming;
}
