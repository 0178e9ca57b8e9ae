/**
 * The desktop side of a watched session, without a network: server messages as the viewer socket
 * hands them over (JSON round trip for `sev`, real binary frames for blobs) go into the page's store
 * as two RunStates, like local runs.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { makeChainPair } from '../../compare/synthetic.ts';
import { traceToEvents } from '../../trace/events.ts';
import type { Trace, TraceEvent } from '../../trace/types.ts';
import { blobFrames, decodeBinaryFrame, type ServerMessage, type SessionInfo } from '../../transport/wire.ts';
import { getState, setState } from '../state/store.ts';
import { closeRemoteSession, onWatchedBinary, onWatchedMessage, openRemoteSession, watchedSession } from './open-session.ts';
import { describeUserAgent } from './user-agent.ts';
import { foldPhoneEvent, newPhoneRun } from './phone-summary.ts';

const ID = 's-00000000000000aa';
const INFO: SessionInfo = {
  id: ID,
  deviceId: 'd-1',
  device: 'Pixel 7',
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  gpu: null,
  model: { name: 'chain', sha256: '', format: 'tfjs-graph' },
  label: 'webgl f16',
  backend: 'webgl',
  capture: 'tensors',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  status: 'streaming',
  reason: null,
  nodes: 0,
  declaredNodes: 0,
  blobBytes: 0,
  hasPhoto: false,
  reference: 'cpu',
  referenceNote: null,
  verdict: null,
  firstDivergent: null,
  cause: null,
};

/** What the server sends for one stream of the session: `sev` JSON frames and binary blob frames. */
function serve(trace: Trace, stream: 'edge' | 'reference', until?: (e: TraceEvent) => boolean): void {
  for (const e of traceToEvents(trace)) {
    if (until?.(e)) return;
    if (e.type === 'blob') {
      for (const f of blobFrames(e.id, e.data, () => 0, { session: ID, stream })) onWatchedBinary(decodeBinaryFrame(f));
    } else {
      const m = JSON.parse(JSON.stringify({ t: 'sev', session: ID, stream, event: e })) as ServerMessage;
      onWatchedMessage(m);
    }
  }
}

// A finished comparison loads the diagnosis lazily (session.ts `diagnosis()`, not awaited): the file
// waits for that import before its environment is torn down, else a slow load (CI under load) fails
// the run with "Cannot load … after the environment was torn down".
afterAll(async () => {
  await import('../state/diagnosis.ts');
});

beforeEach(() => {
  closeRemoteSession(false);
  setState({ runs: [], source: 'live', selectedRun: null, running: false });
});

describe('a watched session on the desktop', () => {
  it('becomes an edge run and the server reference in the store, compared like local runs', () => {
    const { edge, ref } = makeChainPair({ nodes: 12, elements: 64, injectAt: 5 });
    openRemoteSession(INFO);
    const runs = getState().runs;
    expect(runs.map((r) => [r.stream, r.role, r.where])).toEqual([
      ['reference (server cpu)', 'reference', 'exray serve'],
      ['Pixel 7 · webgl f16', 'edge', 'phone (via exray serve)'],
    ]);
    expect(getState().source).toBe('live');
    expect(watchedSession()).toBe(ID);
    const [refRun, edgeRun] = runs as [(typeof runs)[0], (typeof runs)[0]];
    // The server's metrics fill the edge's live map; with the reference done, the page still computes none.
    serve(ref, 'reference');
    expect(refRun.status).toBe('done');
    onWatchedMessage({ t: 'metrics', session: ID, items: [{ node: 'layer_5', output: 0, nrmse: 0.25, maxAbs: 0.05, cosine: 0.99, verdict: 'diverged', reasons: ['nrmse'] }] });
    serve(edge, 'edge', (e) => e.type === 'run-end');
    expect(edgeRun.nodes).toHaveLength(12);
    expect(edgeRun.blobs.size).toBeGreaterThan(12);
    expect(edgeRun.live.get('layer_5:0')?.nrmse).toBe(0.25);
    expect(edgeRun.live.size).toBe(1);
    onWatchedMessage({ t: 'sev', session: ID, stream: 'edge', event: { type: 'run-end', outputs: edge.header.outputs, warnings: [] } });
    expect(edgeRun.status).toBe('done');
    expect(edgeRun.comparison?.verdict).toBe('diverged');
    expect(edgeRun.comparison?.firstDivergent?.name).toBe('layer_5');
    // Another session's messages are not this one's.
    onWatchedMessage({ t: 'metrics', session: 's-00000000000000bb', items: [{ node: 'x', output: 0, nrmse: 1, maxAbs: 1, cosine: 0, verdict: 'diverged', reasons: [] }] });
    expect(edgeRun.live.has('x:0')).toBe(false);
  });

  it('stops watching when the page replaces the runs (a local run, opened files)', () => {
    openRemoteSession(INFO);
    expect(watchedSession()).toBe(ID);
    setState({ runs: [] });
    expect(watchedSession()).toBeNull();
  });

  it('marks the edge run failed when the server calls the session incomplete', () => {
    openRemoteSession(INFO);
    const edge = getState().runs.find((r) => r.role === 'edge')!;
    onWatchedMessage({ t: 'session', info: { ...INFO, status: 'incomplete', reason: 'the phone went away at node 40' } });
    expect(edge.status).toBe('failed');
    expect(edge.error).toBe('incomplete: the phone went away at node 40');
  });

  it('has no reference run when the server said why it could not make one', () => {
    openRemoteSession({ ...INFO, reference: null, referenceNote: 'model not in the store' });
    expect(getState().runs.map((r) => r.role)).toEqual(['edge']);
    expect(getState().notice).toMatch(/model not in the store/);
  });
});

describe('the phone summary', () => {
  it('folds latency, node count and the top-1, and keeps no node blobs', () => {
    const { edge } = makeChainPair({ nodes: 6, elements: 32, classes: 4 });
    const r = newPhoneRun('webgl', 'webgl');
    for (const e of traceToEvents(edge)) foldPhoneEvent(r, e, undefined, ['a', 'b', 'c', 'd']);
    expect(r.status).toBe('done');
    expect(r.nodes).toBe(6);
    expect(r.pending.size).toBe(0);
    const probs = edge.blobs.get(edge.header.outputs[0]!.blob!.id)!;
    const best = probs.indexOf(Math.max(...probs));
    expect(r.top1?.index).toBe(best);
    expect(r.top1?.label).toBe(['a', 'b', 'c', 'd'][best]);
  });
});

describe('describeUserAgent', () => {
  it('names phones and browsers briefly', () => {
    expect(describeUserAgent(INFO.userAgent)).toBe('Pixel 7 · Chrome 126');
    expect(describeUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1')).toBe('iPhone · Safari 17.4');
    expect(describeUserAgent('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36')).toBe('Android · Chrome 130');
    expect(describeUserAgent('')).toBe('unknown device');
  });
});
