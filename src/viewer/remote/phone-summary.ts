/**
 * The phone's own view of a run: a compact fold of its events (progress, latency, top-1), without a
 * TraceBuilder. Node blobs are dropped as soon as their node arrives: the full trace is the desktop's
 * business, and a phone holding every activation next to the resend buffer would run out of memory.
 * Only the final outputs' blobs are kept, for the top-1.
 */
import { topKAgreement, type TopKEntry } from '../../compare/index.ts';
import type { BlobData, TraceEvent } from '../../trace/types.ts';
import { gpuOf } from './user-agent.ts';

export type PhoneSessionStatus = 'opening' | 'streaming' | 'sent' | 'failed' | 'refused' | 'local';

export interface PhoneRun {
  stream: string;
  backend: string;
  /** `uploading`: computed, its session not yet fully acknowledged; `done` once it is (or local only). */
  status: 'queued' | 'starting' | 'running' | 'uploading' | 'done' | 'failed';
  phase: string;
  nodes: number;
  declaredNodes: number;
  medianMs: number | null;
  firstRunMs: number | null;
  top1: TopKEntry | null;
  gpu: string | null;
  error: string | null;
  /** The run's session on exray serve. */
  session: { id: string | null; status: PhoneSessionStatus; reason: string | null };
  /** Blobs not yet claimed by a node or the inputs (the final outputs, at run-end). */
  pending: Map<string, BlobData>;
  rev: number;
}

export function newPhoneRun(stream: string, backend: string): PhoneRun {
  return {
    stream,
    backend,
    status: 'queued',
    phase: 'queued',
    nodes: 0,
    declaredNodes: 0,
    medianMs: null,
    firstRunMs: null,
    top1: null,
    gpu: null,
    error: null,
    session: { id: null, status: 'local', reason: null },
    pending: new Map(),
    rev: 0,
  };
}

/** Fold one event; `classifier` names the outputs to take the top-1 of (card), labels label it. */
export function foldPhoneEvent(r: PhoneRun, e: TraceEvent, classifier: readonly string[] | undefined, labels: readonly string[] | undefined): void {
  r.rev++;
  switch (e.type) {
    case 'run-start':
      r.status = 'running';
      r.phase = 'running';
      r.declaredNodes = e.model.nodeCount;
      r.gpu = gpuOf(e.environment);
      for (const t of e.input.tensors) if (t.blob) r.pending.delete(t.blob.id);
      return;
    case 'blob':
      r.pending.set(e.id, e.data);
      return;
    case 'node':
      r.nodes++;
      for (const o of e.node.outputs) if (o.blob) r.pending.delete(o.blob.id);
      return;
    case 'timing':
      r.medianMs = e.timing.medianMs;
      r.firstRunMs = e.timing.firstRunMs;
      return;
    case 'progress':
      r.phase = e.phase;
      return;
    case 'kernel':
      return;
    case 'run-end': {
      const out = e.outputs.find((o) => classifier?.includes(o.name)) ?? (classifier ? undefined : e.outputs[0]);
      const data = out?.blob ? r.pending.get(out.blob.id) : undefined;
      if (data && data.length > 1) r.top1 = topKAgreement(data, data, 1, labels).edge[0] ?? null;
      r.pending.clear();
      const streaming = r.session.status === 'opening' || r.session.status === 'streaming';
      r.status = streaming ? 'uploading' : 'done';
      r.phase = streaming ? 'uploading to the desktop' : 'done';
      return;
    }
    case 'run-error':
      fail(r, e.message);
      return;
  }
}

export function fail(r: PhoneRun, message: string): void {
  r.rev++;
  r.pending.clear();
  if (r.status === 'done' || r.status === 'uploading') return;
  r.status = 'failed';
  r.phase = 'failed';
  r.error ??= message;
}
