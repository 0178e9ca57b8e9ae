/**
 * Open (watch) a session of `exray serve` on the desktop: two RunStates in the page's store, the
 * phone's run (edge) and the server's reference for it, fed through an in-page transport exactly like
 * local runs and opened files (state/session.ts follows it). Every row, chart, the inspector and the
 * page's own comparison (compareTraces when both runs ended, as for local runs) work unchanged.
 *
 * The server's per-node metrics fill the edge run's `live` map while it streams (the page does not
 * recompute them: RunState.remote.serverMetrics). The server's `compared` / `diagnosis` are kept in
 * remote-state (session rows, ServerCause) and do not replace the page's comparison: the page computes
 * its own from both traces, with its tolerance preset and the card, so that it reacts to the page's
 * controls and the diagnosis panel can replay nodes.
 */
import type { TensorRecord, TensorStats, TraceEvent } from '../../trace/types.ts';
import { createInPageTransport } from '../../transport/in-page.ts';
import type { TraceTransport } from '../../transport/types.ts';
import { BlobAssembler, WireError, type BinaryFrame, type ServerMessage, type SessionInfo } from '../../transport/wire.ts';
import { cardCompareOptions } from '../load/model.ts';
import { RunState } from '../state/run-state.ts';
import { cancelRuns } from '../state/runs.ts';
import { follow, setCompareOptions } from '../state/session.ts';
import { getState, setState, subscribe, touch } from '../state/store.ts';
import { viewerSend } from './remote-state.ts';
import { describeUserAgent } from './user-agent.ts';

/** Largest blob a watched session may allocate (elements): 1 GiB of float32. */
const MAX_BLOB_ELEMENTS = 1 << 28;

interface Watched {
  info: SessionInfo;
  edge: RunState;
  ref: RunState | null;
  transport: TraceTransport;
  stopFollow: () => void;
  assemblers: { edge: BlobAssembler; reference: BlobAssembler };
}

let w: Watched | null = null;
let storeWatch: (() => void) | null = null;

export function watchedSession(): string | null {
  return w?.info.id ?? null;
}

/** The edge run's name in the page: `<device> · <label>`. */
export function edgeStreamName(info: SessionInfo): string {
  return `${info.device || describeUserAgent(info.userAgent)} · ${info.label}`;
}

export function openRemoteSession(info: SessionInfo): void {
  closeRemoteSession();
  const s = getState();
  if (s.running) cancelRuns();
  const edge = new RunState(edgeStreamName(info), 'edge', info.backend, 'phone (via exray serve)');
  edge.remote = { session: info.id, serverMetrics: false };
  // No reference when the server said why it could not run one; otherwise it may still be starting.
  let ref: RunState | null = null;
  if (info.reference !== null || info.referenceNote === null) {
    const backend = info.reference ?? 'cpu';
    ref = new RunState(`reference (server ${backend})`, 'reference', backend, 'exray serve');
    ref.remote = { session: info.id, serverMetrics: false };
  }
  const card = s.index?.models.find((m) => m.name === info.model.name)?.card ?? null;
  setCompareOptions({ ...cardCompareOptions(card), tolerance: { preset: s.preset } });
  setState({
    runs: ref ? [ref, edge] : [edge],
    source: 'live',
    running: false,
    selectedRun: edge.stream,
    selectedNode: null,
    notice: ref ? null : `exray serve has no reference for this session: ${info.referenceNote}`,
  });
  const transport = createInPageTransport();
  w = { info, edge, ref, transport, stopFollow: follow(transport), assemblers: { edge: new BlobAssembler(MAX_BLOB_ELEMENTS), reference: new BlobAssembler(MAX_BLOB_ELEMENTS) } };
  // Replaced runs (a local run, opened files, another model) end the watch.
  storeWatch ??= subscribe(() => {
    if (w && !getState().runs.includes(w.edge)) closeRemoteSession();
  });
  viewerSend({ t: 'watch', session: info.id });
}

/** Stop following the watched session (its runs stay on the page as they are). */
export function closeRemoteSession(unwatch = true): void {
  if (!w) return;
  const old = w;
  w = null;
  if (unwatch) viewerSend({ t: 'unwatch', session: old.info.id });
  old.stopFollow();
  old.transport.close();
}

/** After a reconnection the server replays the watched session from its start: begin again. */
export function rewatch(): void {
  if (!w) return;
  const info = w.info;
  closeRemoteSession(false); // the new socket watches nothing yet
  openRemoteSession(info);
}

function runOf(stream: 'edge' | 'reference'): RunState | null {
  return !w ? null : stream === 'edge' ? w.edge : w.ref;
}

function deliver(stream: 'edge' | 'reference', event: TraceEvent): void {
  const run = runOf(stream);
  if (w && run) w.transport.send({ stream: run.stream, event });
}

export function onWatchedMessage(m: ServerMessage): void {
  if (!w) return;
  switch (m.t) {
    case 'sev':
      if (m.session === w.info.id) deliver(m.stream, revive(m.event));
      return;
    case 'metrics': {
      if (m.session !== w.info.id) return;
      const edge = w.edge;
      edge.remote = { session: m.session, serverMetrics: true };
      for (const it of m.items) edge.live.set(`${it.node}:${it.output}`, { nrmse: it.nrmse, maxAbs: it.maxAbs, cosine: it.cosine, verdict: it.verdict, reasons: it.reasons });
      edge.rev++;
      touch();
      return;
    }
    case 'compared':
    case 'diagnosis':
      if (m.session === w.info.id) touch();
      return;
    case 'session':
      if (m.info.id !== w.info.id) return;
      w.info = m.info;
      // An incomplete session (the phone went away) sends no run-error: say so on the run.
      if ((m.info.status === 'incomplete' || m.info.status === 'refused') && w.edge.status !== 'done' && w.edge.status !== 'failed') {
        w.edge.fail(`${m.info.status}${m.info.reason ? `: ${m.info.reason}` : ''}`);
        touch();
      }
      return;
    default:
      return;
  }
}

export function onWatchedBinary(frame: BinaryFrame): void {
  if (!w || frame.meta.session !== w.info.id || frame.kind === 'attachment') return;
  const stream = frame.meta.stream ?? 'edge';
  try {
    const blob = w.assemblers[stream].push(frame);
    if (blob) deliver(stream, { type: 'blob', id: blob.id, data: blob.data });
  } catch (e) {
    runOf(stream)?.fail(`blob from the server: ${e instanceof WireError ? e.message : String(e)}`);
    touch();
  }
}

// JSON has no NaN: a tensor without a finite value has `null` statistics on the wire (as in header.json).
function reviveStats(st: TensorStats | undefined): void {
  if (!st) return;
  const nums = st as unknown as Record<string, number | null>;
  for (const k of ['min', 'max', 'mean', 'std'] as const) if (nums[k] === null) nums[k] = NaN;
  const h = st.histogram as unknown as Record<string, number | null> | undefined;
  if (h) for (const k of ['min', 'max'] as const) if (h[k] === null) h[k] = NaN;
}

function reviveAll(records: readonly TensorRecord[] | undefined): void {
  for (const r of records ?? []) reviveStats(r.stats);
}

/** Non-blob events as JSON gave them, with NaN statistics restored. */
function revive(e: Exclude<TraceEvent, { type: 'blob' }>): TraceEvent {
  if (e.type === 'node') reviveAll(e.node.outputs);
  else if (e.type === 'run-start') reviveAll(e.input.tensors);
  else if (e.type === 'run-end') reviveAll(e.outputs);
  return e;
}
