/**
 * One phone session inside the reference worker: folds the edge events, runs the reference model on
 * the edge's own input as soon as it has arrived, compares every edge node with the reference node of
 * the same name (as src/viewer/state/session.ts liveCompare does), and at the end produces the full
 * comparison and the diagnosis.
 *
 * Event handling is synchronous and cheap; the heavy steps (reference run, final comparison,
 * diagnosis) go on the session's promise chain, so a session's work stays in order, and every model
 * inference takes the worker-wide lock (`exclusive`), so only one runs at a time.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareTraces, judgeMetrics, resolveTolerance, tensorMetrics, type CompareOptions, type Comparison } from '../compare/index.ts';
import type { Diagnosis } from '../diagnose/index.ts';
import { ExrayInputError } from '../errors.ts';
import { cardOutputKinds } from '../models/card-schema.ts';
import { loadModelCard, type ModelCard } from '../models/card.ts';
import { decodeImageBytes } from '../preprocess/decode-node.ts';
import type { DecodedImage } from '../preprocess/image.ts';
import { runDiagnosis } from '../reference/diagnose-node.ts';
import type { FeedTensor } from '../reference/feed.ts';
import type { NodeBackend } from '../reference/tfjs-backend.ts';
import { modelDirOf, traceInNode } from '../reference/trace-node.ts';
import { TraceBuilder } from '../trace/events.ts';
import type { BlobData, NodeRecord, RunStartEvent, Trace, TraceEvent } from '../trace/types.ts';
import type { WireMetric } from '../transport/wire.ts';

/** What a session says to the main thread. */
export interface SessionOutput {
  refEvent(event: TraceEvent): void;
  metrics(items: WireMetric[]): void;
  compared(r: { verdict: 'ok' | 'diverged'; firstDivergent: string | null; comparison: Comparison }): void;
  diagnosis(r: { cause: string | null; diagnosis: Diagnosis }): void;
  note(text: string): void;
  released(): void;
}

/** Runs `fn` when no other inference runs (the worker has one lock: two cores, one for the server). */
export type Exclusive = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * The page's default tolerance (its preset selector starts at float32). A half-float phone is then
 * `diverged`, which is the finding the diagnosis explains (cause float16).
 */
const TOLERANCE = { preset: 'float32' } as const;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The page's compare options for a model card (src/viewer/load/model.ts cardCompareOptions). */
function cardCompareOptions(card: ModelCard | null): CompareOptions {
  const labels = card?.outputs.find((o) => o.meaning === 'classification' && o.labels)?.labels;
  const classifierOutputs = card?.outputs.filter((o) => o.meaning === 'classification').flatMap((o) => [o.name, `${o.name}:0`]);
  return { tolerance: TOLERANCE, ...(labels ? { labels } : {}), ...(card ? { classifierOutputs, outputKinds: cardOutputKinds(card) } : {}) };
}

export class ReferenceSessionWorker {
  private chain: Promise<void> = Promise.resolve();
  private readonly edge: TraceBuilder;
  /** The same arrays the builder holds, by id: live comparison needs them before the trace is finished. */
  private edgeBlobs = new Map<string, BlobData>();
  /** Events before run-start (blobs may come first); replayed into the builder once it starts. */
  private early: TraceEvent[] = [];
  private start: RunStartEvent | null = null;
  private model: string | null = null;
  /** Nothing more to do (no reference possible, or the edge stream was rejected): events are dropped. */
  private off = false;
  private ended = false;
  private refState: 'waiting' | 'queued' | 'running' | 'done' | 'failed' | 'skipped' = 'waiting';
  private ref: Trace | null = null;
  private refNodes = new Map<string, NodeRecord>();
  private refBlobs = new Map<string, BlobData>();
  private card: ModelCard | null = null;
  /** Edge nodes waiting for the reference node of their name, or for one of their own blobs. */
  private waitingName = new Map<string, NodeRecord[]>();
  private waitingBlob = new Map<string, NodeRecord[]>();
  private batch: WireMetric[] = [];
  private photoBytes: { bytes: Uint8Array; fileName: string } | null = null;
  private noted = false;

  constructor(
    readonly id: string,
    readonly backend: NodeBackend,
    private readonly out: SessionOutput,
    private readonly exclusive: Exclusive,
  ) {
    this.edge = new TraceBuilder({ source: `session ${id}` });
  }

  /** Settles when everything queued so far on this session is done. */
  get tail(): Promise<void> {
    return this.chain;
  }

  private note(text: string): void {
    if (this.noted) return;
    this.noted = true;
    this.out.note(text);
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((e: unknown) => this.note(`reference failed: ${message(e)}`));
  }

  private stop(text: string): void {
    this.note(text);
    this.off = true;
    this.early = [];
    this.edgeBlobs.clear();
    this.waitingName.clear();
    this.waitingBlob.clear();
  }

  edgeEvent(event: TraceEvent, model: string | null | undefined): void {
    if (this.off || this.ended) return;
    try {
      if (event.type === 'run-start') this.onStart(event, model ?? null);
      else if (!this.start) this.early.push(event);
      else this.onEvent(event);
    } catch (e) {
      this.stop(`no reference: the edge stream was rejected: ${message(e)}`);
    }
    this.flush();
  }

  photo(bytes: Uint8Array, fileName: string): void {
    if (!this.ended) this.photoBytes = { bytes, fileName };
  }

  private onStart(event: RunStartEvent, model: string | null): void {
    this.edge.push(event);
    this.start = event;
    const { name, sha256 } = event.model;
    if (!model) {
      this.stop(`no reference: model "${name}" (sha256 ${sha256.slice(0, 12)}…) is not in the server's store`);
      return;
    }
    this.model = model;
    const early = this.early;
    this.early = [];
    for (const e of early) this.onEvent(e);
    this.maybeStartReference();
  }

  private onEvent(event: TraceEvent): void {
    this.edge.push(event);
    if (event.type === 'blob') {
      this.edgeBlobs.set(event.id, event.data);
      this.maybeStartReference();
      const waiting = this.waitingBlob.get(event.id);
      if (waiting) {
        this.waitingBlob.delete(event.id);
        for (const n of waiting) this.tryNode(n);
      }
    } else if (event.type === 'node') {
      this.tryNode(event.node);
    } else if (event.type === 'run-end' || event.type === 'run-error') {
      // Every blob has arrived (or never will): nodes still waiting for one of theirs get no metric.
      this.waitingBlob.clear();
    }
  }

  /** The reference runs once every input tensor of run-start has its values. */
  private maybeStartReference(): void {
    if (this.refState !== 'waiting' || !this.start || !this.model) return;
    const feed: FeedTensor[] = [];
    for (const t of this.start.input.tensors) {
      const data = t.blob ? this.edgeBlobs.get(t.blob.id) : undefined;
      if (!data) {
        if (!t.blob) this.stop(`no reference: input "${t.name}" has no recorded values`);
        return;
      }
      feed.push({ name: t.name, shape: [...t.shape], dtype: t.dtype, data });
    }
    this.refState = 'queued';
    const start = this.start;
    const model = this.model;
    this.enqueue(() => this.exclusive(() => this.runReference(start, model, feed)));
  }

  private async runReference(start: RunStartEvent, model: string, feed: FeedTensor[]): Promise<void> {
    // Abandoned before its turn (ended without run-end): nobody will look at this reference.
    if (this.off || (this.ended && this.edge.state !== 'ended')) {
      this.refState = 'skipped';
      return;
    }
    this.refState = 'running';
    try {
      // The card gives the final comparison its labels and classifier outputs, as on the page.
      const cardPath = join(await modelDirOf(model), 'exray.json');
      this.card = existsSync(cardPath) ? await loadModelCard(cardPath).catch(() => null) : null;
      this.ref = await traceInNode({
        model,
        backend: this.backend,
        feed,
        feedFile: `session ${this.id} input`,
        capture: 'tensors',
        // Values only (TF.js; ONNX needs one timed run): a reference is compared, not timed.
        runs: 0,
        warmup: 0,
        label: 'reference',
        referenceFor: start.id,
        modelName: start.model.name,
        ...(start.input.source ? { source: start.input.source } : {}),
        ...(start.input.preprocess ? { preprocess: start.input.preprocess } : {}),
        onEvent: (e) => this.onRefEvent(e),
      });
      this.refState = 'done';
    } catch (e) {
      this.refState = 'failed';
      this.note(`reference failed (${this.backend}): ${message(e)}`);
    }
    // The reference is complete: nodes still waiting for a name it never ran have no counterpart.
    const waiting = [...this.waitingName.values()].flat();
    this.waitingName.clear();
    for (const n of waiting) this.tryNode(n);
    this.flush();
  }

  private onRefEvent(e: TraceEvent): void {
    if (e.type === 'blob') {
      this.refBlobs.set(e.id, e.data);
      // A copy for the main thread: the worker keeps the original for the comparisons.
      this.out.refEvent({ type: 'blob', id: e.id, data: e.data.slice() });
      return;
    }
    this.out.refEvent(e);
    if (e.type !== 'node') return;
    // First node of a name wins, as in the page (refIndex).
    if (this.refNodes.has(e.node.name)) return;
    this.refNodes.set(e.node.name, e.node);
    const waiting = this.waitingName.get(e.node.name);
    if (waiting) {
      this.waitingName.delete(e.node.name);
      for (const n of waiting) this.tryNode(n);
      this.flush();
    }
  }

  /** Metrics of one edge node once both sides have its values; otherwise it waits (at most one list at a time). */
  private tryNode(node: NodeRecord): void {
    const refNode = this.refNodes.get(node.name);
    if (!refNode) {
      if (this.refState === 'waiting' || this.refState === 'queued' || this.refState === 'running') {
        const list = this.waitingName.get(node.name) ?? [];
        list.push(node);
        this.waitingName.set(node.name, list);
      }
      return;
    }
    if (this.edge.state === 'running') {
      const missing = node.outputs.find((o) => o.blob && !this.edgeBlobs.has(o.blob.id))?.blob?.id;
      if (missing !== undefined) {
        const list = this.waitingBlob.get(missing) ?? [];
        list.push(node);
        this.waitingBlob.set(missing, list);
        return;
      }
    }
    // Same as liveCompare (src/viewer/state/session.ts): same name, same output index, equal lengths.
    node.outputs.forEach((out, k) => {
      const r = refNode.outputs[k];
      const a = out.blob ? this.edgeBlobs.get(out.blob.id) : undefined;
      const b = r?.blob ? this.refBlobs.get(r.blob.id) : undefined;
      if (!a || !b || a.length !== b.length) return;
      const m = tensorMetrics(a, b);
      const tol = resolveTolerance(TOLERANCE, { name: node.name, op: node.op, outputIndex: k, dtype: out.dtype });
      const j = judgeMetrics(m, tol);
      this.batch.push({ node: node.name, output: k, nrmse: m.nrmse, maxAbs: m.maxAbs, cosine: m.cosine, verdict: j.verdict, reasons: j.reasons });
    });
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const items = this.batch;
    this.batch = [];
    this.out.metrics(items);
  }

  /** The stream is over: final comparison and diagnosis (after the reference), then release everything. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.enqueue(async () => {
      try {
        if (!this.off && this.ref && this.edge.state === 'ended') await this.conclude(this.edge.finish(), this.ref);
      } catch (e) {
        this.note(`comparison failed: ${message(e)}`);
      } finally {
        this.release();
      }
    });
  }

  private async conclude(edge: Trace, ref: Trace): Promise<void> {
    const comparison = compareTraces(edge, ref, cardCompareOptions(this.card));
    // Nothing compared (capture `timing`): neither ok nor diverged, and nothing failed either; the
    // diagnosis still comes (input causes need only the input) and says so in its comparison field.
    if (comparison.verdict !== 'no-data') {
      const verdict = comparison.verdict === 'ok' ? 'ok' : 'diverged';
      this.out.compared({ verdict, firstDivergent: comparison.firstDivergent?.name ?? null, comparison });
    }
    const model = this.model!;
    let image: DecodedImage | undefined;
    if (this.photoBytes) {
      try {
        image = await decodeImageBytes(this.photoBytes.bytes, this.photoBytes.fileName);
      } catch (e) {
        this.note(`the photo could not be decoded (${message(e)}): diagnosis on the recorded input`);
      }
    }
    const diagnose = (photo: DecodedImage | undefined): Promise<Diagnosis> =>
      this.exclusive(async () => (await runDiagnosis({ edge, model, backend: this.backend, edgeFile: `session ${this.id}`, ...(photo ? { image: photo } : {}) })).diagnosis);
    let diagnosis: Diagnosis;
    try {
      try {
        diagnosis = await diagnose(image);
      } catch (e) {
        if (!image || !(e instanceof ExrayInputError)) throw e;
        // The photo cannot be used (no pre-processing known, several inputs…): node-level causes still can.
        this.note(`diagnosis without the photo: ${message(e)}`);
        diagnosis = await diagnose(undefined);
      }
    } catch (e) {
      this.note(`diagnosis failed: ${message(e)}`);
      return;
    }
    this.out.diagnosis({ cause: diagnosis.causes[0]?.code ?? 'none', diagnosis });
  }

  private release(): void {
    this.off = true;
    this.early = [];
    this.edgeBlobs = new Map();
    this.refBlobs = new Map();
    this.refNodes = new Map();
    this.waitingName.clear();
    this.waitingBlob.clear();
    this.ref = null;
    this.photoBytes = null;
    this.out.released();
  }
}
