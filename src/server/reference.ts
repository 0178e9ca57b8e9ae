/**
 * The desktop reference of `exray serve`, main-thread side. While a phone streams a trace, the same
 * model runs in Node on the phone's own input (TF.js cpu/wasm, or onnxruntime for `.onnx`), each phone
 * node is compared with the reference node of the same name as it arrives, and the end of the stream
 * brings the full comparison and the diagnosis.
 *
 * All of that runs in one worker thread (reference-worker.ts) so the socket loop never waits on a
 * model; this class only forwards events (transferring blob buffers) and folds the reference events it
 * gets back into the reference trace.
 */
import { Worker } from 'node:worker_threads';
// sharp (photo decoding in the worker) must be loaded by the main thread before any worker: on glibc
// Linux a worker's exit could otherwise unload libvips while another thread uses it
// (https://sharp.pixelplumbing.com/install#worker-threads).
import 'sharp';
import type { Comparison } from '../compare/index.ts';
import type { Diagnosis } from '../diagnose/index.ts';
import { TraceBuilder } from '../trace/events.ts';
import type { Trace, TraceEvent } from '../trace/types.ts';
import type { WireMetric } from '../transport/wire.ts';
import { ownBuffer, transferableEvent, type FromWorker, type ToWorker } from './reference-protocol.ts';

export type ReferenceBackend = 'cpu' | 'wasm';

export interface ReferenceListener {
  /** Events of the reference trace (blobs included, data transferred from the worker), for viewers and the store. */
  refEvent(session: string, event: TraceEvent): void;
  /** Batched per arriving phone node(s). */
  metrics(session: string, items: WireMetric[]): void;
  compared(session: string, r: { verdict: 'ok' | 'diverged'; firstDivergent: string | null; comparison: Comparison }): void;
  diagnosis(session: string, r: { cause: string | null; diagnosis: Diagnosis }): void;
  /** The reference finished: the whole trace (to store as reference.exray). */
  referenceTrace(session: string, trace: Trace): void;
  /** Said once per session when no reference can run (model not found by sha256, unsupported format, load error) or something failed; the session goes on without it. */
  note(session: string, text: string): void;
  /**
   * Optional: the service is done with the session (after end(): its diagnosis, its note, or nothing
   * when the run never finished) and holds nothing of it any more. The last callback of a session.
   */
  released?(session: string): void;
}

/** A model dir/file for an edge model's sha256 (and name), or null. */
export interface ModelLocator {
  (sha256: string, name: string): string | null;
}

interface MainSession {
  /** The worker generation that holds it: after a crash its events go nowhere. */
  generation: number;
  /** No reference for it (model not found): its events are not even sent to the worker. */
  off: boolean;
  ended: boolean;
  noted: boolean;
  /** Folds the reference events into the trace handed to referenceTrace. */
  ref: TraceBuilder | null;
}

const WORKER_URL = new URL('./reference-worker-boot.mjs', import.meta.url);

export class ReferenceService {
  /** Settable: applies to sessions that begin afterwards. */
  backend: ReferenceBackend;
  private readonly locate: ModelLocator;
  private readonly listener: ReferenceListener;
  private worker: Worker | null = null;
  private generation = 0;
  private readonly sessions = new Map<string, MainSession>();
  private readonly idleWaiters = new Map<number, () => void>();
  private nextIdle = 1;
  private closed = false;

  constructor(opts: { locate: ModelLocator; listener: ReferenceListener; backend?: ReferenceBackend }) {
    this.locate = opts.locate;
    this.listener = opts.listener;
    this.backend = opts.backend ?? 'cpu';
  }

  /** Every edge event of a session, in arrival order (blob data may be transferred away: the caller gives ownership). */
  edgeEvent(session: string, event: TraceEvent): void {
    const s = this.session(session);
    if (!s || s.off || s.ended) return;
    if (event.type === 'run-start') {
      let model: string | null = null;
      try {
        model = this.locate(event.model.sha256, event.model.name);
      } catch (e) {
        this.note(session, `no reference: model lookup failed: ${e instanceof Error ? e.message : String(e)}`);
        s.off = true;
        return;
      }
      // The worker says why (once); later events of the session need not cross the thread.
      if (model === null) s.off = true;
      this.post({ t: 'edge', session, event, model });
      return;
    }
    const { event: e, transfer } = transferableEvent(event);
    this.post({ t: 'edge', session, event: e }, transfer);
  }

  /** The original photo bytes (diagnosis uses them when present). */
  photo(session: string, bytes: Uint8Array, fileName: string): void {
    const s = this.session(session);
    if (!s || s.off || s.ended) return;
    const own = ownBuffer(bytes);
    this.post({ t: 'photo', session, bytes: own.data, fileName }, own.transfer);
  }

  /** The session's stream is over; the worker releases it once the final comparison/diagnosis is done. */
  end(session: string): void {
    const s = this.sessions.get(session);
    if (!s || s.ended) return;
    s.ended = true;
    if (s.generation !== this.generation || !this.worker) this.forget(session);
    else this.post({ t: 'end', session });
  }

  /** Resolves when everything queued so far is done (tests, shutdown). */
  idle(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    const id = this.nextIdle++;
    return new Promise((resolve) => {
      this.idleWaiters.set(id, resolve);
      this.keepAlive();
      this.post({ t: 'idle', id });
    });
  }

  /** Terminates the worker; sessions in flight get nothing more. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.sessions.clear();
    this.resolveIdle();
    if (w) await w.terminate();
  }

  /** The session's record, beginning it (and starting a worker) on first sight; null once closed. */
  private session(id: string): MainSession | null {
    const known = this.sessions.get(id);
    if (known) return known.generation === this.generation && this.worker ? known : null;
    if (this.closed) return null;
    const worker = this.worker ?? this.start();
    const s: MainSession = { generation: this.generation, off: false, ended: false, noted: false, ref: null };
    this.sessions.set(id, s);
    this.keepAlive();
    worker.postMessage({ t: 'begin', session: id, backend: this.backend } satisfies ToWorker);
    return s;
  }

  private start(): Worker {
    this.generation++;
    const generation = this.generation;
    const worker = new Worker(WORKER_URL, { name: 'exray-reference' });
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (e) => this.crashed(generation, e.message));
    worker.on('exit', (code) => this.crashed(generation, `exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker?.postMessage(m, transfer);
  }

  /** The worker is gone (error or exit): every session it held goes on without a reference. */
  private crashed(generation: number, why: string): void {
    if (this.closed || generation !== this.generation || !this.worker) return;
    this.worker = null;
    for (const [id, s] of this.sessions) {
      if (s.generation !== generation) continue;
      if (!s.off) this.note(id, `reference worker crashed (${why}); the session goes on without a reference`);
      s.ref = null;
      if (s.ended) this.forget(id);
    }
    this.resolveIdle();
  }

  private forget(session: string): void {
    this.sessions.delete(session);
    this.keepAlive();
    this.call(() => this.listener.released?.(session));
  }

  private resolveIdle(): void {
    for (const resolve of this.idleWaiters.values()) resolve();
    this.idleWaiters.clear();
  }

  /** An idle worker must not keep the process alive; a busy one must. */
  private keepAlive(): void {
    if (!this.worker) return;
    if (this.sessions.size > 0 || this.idleWaiters.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private note(session: string, text: string): void {
    const s = this.sessions.get(session);
    if (s?.noted) return;
    if (s) s.noted = true;
    this.call(() => this.listener.note(session, text));
  }

  /** A listener that throws must not break the service (nor the other sessions). */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      console.error(`exray reference: listener failed: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'idle':
        this.idleWaiters.get(m.id)?.();
        this.idleWaiters.delete(m.id);
        this.keepAlive();
        return;
      case 'released':
        this.forget(m.session);
        return;
      case 'note':
        this.note(m.session, m.text);
        return;
      case 'metrics':
        this.call(() => this.listener.metrics(m.session, m.items));
        return;
      case 'compared':
        this.call(() => this.listener.compared(m.session, { verdict: m.verdict, firstDivergent: m.firstDivergent, comparison: m.comparison }));
        return;
      case 'diagnosis':
        this.call(() => this.listener.diagnosis(m.session, { cause: m.cause, diagnosis: m.diagnosis }));
        return;
      case 'ref-event':
        this.onRefEvent(m.session, m.event);
        return;
    }
  }

  private onRefEvent(session: string, event: TraceEvent): void {
    const s = this.sessions.get(session);
    if (s && event.type === 'run-start') s.ref = new TraceBuilder({ source: `reference of ${session}` });
    let trace: Trace | null = null;
    try {
      s?.ref?.push(event);
      if (s?.ref && event.type === 'run-end') trace = s.ref.finish();
    } catch (e) {
      if (s) s.ref = null;
      this.note(session, `reference trace invalid: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.call(() => this.listener.refEvent(session, event));
    if (trace && s) {
      s.ref = null;
      this.call(() => this.listener.referenceTrace(session, trace));
    }
  }
}
