/**
 * One run as the viewer sees it while its events stream in: folded with TraceBuilder (the Trace at
 * the end) and kept as live lists (nodes, kernels, blobs) for the views meanwhile. A run knows nothing
 * of the transport that carries its events.
 */
import { TraceBuilder } from '../../trace/events.ts';
import type {
  BlobData,
  KernelRecord,
  NodeRecord,
  ProgressEvent,
  RunStartEvent,
  TimingSummary,
  Trace,
  TraceEvent,
} from '../../trace/types.ts';
import type { Comparison } from '../../compare/index.ts';

export type RunRole = 'reference' | 'edge';
export type RunStatus = 'queued' | 'starting' | 'running' | 'done' | 'failed';

/**
 * `name:outputIndex` → live metrics, remembering which keys changed (in order) so that node rows
 * update only those (state/node-rows.ts) instead of re-reading every row on each event. `clear`
 * starts a new epoch: whoever follows the changes starts over.
 */
export class LiveMap extends Map<string, LiveMetric> {
  /** Keys set since the last clear, in order (a key may repeat). */
  readonly changes: string[] = [];
  epoch = 0;

  override set(key: string, value: LiveMetric): this {
    super.set(key, value);
    // Map's constructor calls set before this class's fields exist.
    this.changes?.push(key);
    return this;
  }

  override clear(): void {
    super.clear();
    this.changes.length = 0;
    this.epoch++;
  }

  override delete(key: string): boolean {
    const had = super.delete(key);
    if (had) this.changes.push(key);
    return had;
  }
}

/** Per-node-output metrics against the reference, computed as the node arrives. */
export interface LiveMetric {
  nrmse: number;
  maxAbs: number;
  cosine: number;
  verdict: 'ok' | 'diverged';
  reasons: string[];
}

export class RunState {
  readonly builder: TraceBuilder;
  status: RunStatus = 'queued';
  /** What is happening now, in words (`warm-up`, `capture pass`, `loading model`). */
  phase = 'queued';
  progress: ProgressEvent | null = null;
  start: RunStartEvent | null = null;
  readonly nodes: NodeRecord[] = [];
  /** The first node of each name, as it arrives (live comparison in either order of runs). */
  readonly byName = new Map<string, NodeRecord>();
  readonly kernels: KernelRecord[] = [];
  readonly blobs = new Map<string, BlobData>();
  timing: TimingSummary | null = null;
  trace: Trace | null = null;
  /**
   * The trace these events are replayed from, already decoded and checked by the trace reader
   * (decodeTrace: schema and rules): at run-end it is taken as it is, not validated a second time.
   */
  decoded: Trace | null = null;
  comparison: Comparison | null = null;
  /** `name:outputIndex` → metrics vs the reference (before the full comparison exists). */
  readonly live = new LiveMap();
  error: string | null = null;
  /**
   * A run streamed from `exray serve` (a phone's session or the server's reference for it), not made
   * on this page. `serverMetrics`: the server's per-node metrics fill `live`, the page does not.
   */
  remote: { session: string; serverMetrics: boolean } | null = null;
  /** Bumped on every change: views memoise on it. */
  rev = 0;
  readonly createdAt = performance.now();
  /** When this run's job started (runs of one click are created together but run one after another). */
  startedAt: number | null = null;
  endedAt: number | null = null;

  constructor(
    /** Stream name: unique in the session, also the run's display label. */
    readonly stream: string,
    readonly role: RunRole,
    /** Requested backend (the trace's runtime.backend once started). */
    readonly backend: string,
    /** `worker`, `main thread` or the file it came from. */
    readonly where: string,
  ) {
    this.builder = new TraceBuilder({ source: stream });
  }

  /**
   * Fold one event. Returns the node that just arrived (for live comparison), if any. A malformed
   * stream marks the run failed instead of throwing.
   */
  push(event: TraceEvent): NodeRecord | null {
    this.rev++;
    try {
      this.builder.push(event);
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
      return null;
    }
    switch (event.type) {
      case 'run-start':
        this.start = event;
        this.status = 'running';
        this.phase = 'running';
        return null;
      case 'blob':
        this.blobs.set(event.id, event.data);
        return null;
      case 'node':
        this.nodes.push(event.node);
        if (!this.byName.has(event.node.name)) this.byName.set(event.node.name, event.node);
        return event.node;
      case 'kernel':
        this.kernels.push(event.kernel);
        return null;
      case 'timing':
        this.timing = event.timing;
        return null;
      case 'progress':
        this.progress = event;
        this.phase = event.phase;
        return null;
      case 'run-end':
        try {
          this.trace = this.decoded ?? this.builder.finish();
          this.status = 'done';
          this.phase = 'done';
          this.endedAt = performance.now();
        } catch (e) {
          this.fail(e instanceof Error ? e.message : String(e));
        }
        return null;
      case 'run-error':
        this.fail(event.message);
        return null;
    }
  }

  fail(message: string): void {
    this.rev++;
    this.status = 'failed';
    this.phase = 'failed';
    this.error = message;
    this.endedAt = performance.now();
  }

  setPhase(phase: string, status: RunStatus = this.status): void {
    this.rev++;
    this.phase = phase;
    this.status = status;
  }

  /** The job starts now: the elapsed time counts from here. */
  begin(): void {
    this.startedAt = performance.now();
    this.setPhase('starting', 'starting');
  }

  /** Milliseconds from this run's own start to its end (or to now while it runs); null before it starts. */
  elapsedMs(now = performance.now()): number | null {
    const t0 = this.startedAt ?? (this.status === 'queued' ? null : this.createdAt);
    if (t0 === null) return null;
    return (this.endedAt ?? now) - t0;
  }

  /** Node count the model declares (known from run-start). */
  get declaredNodes(): number {
    return this.start?.model.nodeCount ?? 0;
  }
}
