/**
 * The node table's rows while runs stream (src/viewer/state/node-rows.ts, table-rows.ts), on real
 * traces: the emotion sample on TF.js cpu (the reference) and wasm (the edge) in Node, their events fed
 * one by one through the page's session (state/session.ts) as a worker's would be, in either order.
 * At every step the incremental rows must equal rows built from scratch, keep the row objects of
 * earlier nodes, and show each node from whichever run has reached it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { traceToEvents } from '../src/trace/events.ts';
import type { Trace, TraceEvent } from '../src/trace/types.ts';
import { traceModel } from '../src/instrument/tfjs/trace-model.ts';
import { createInPageTransport } from '../src/transport/in-page.ts';
import type { TraceTransport } from '../src/transport/types.ts';
import { LiveRows, nodeRows, type NodeRow } from '../src/viewer/state/node-rows.ts';
import { RunState } from '../src/viewer/state/run-state.ts';
import { follow, setCompareOptions } from '../src/viewer/state/session.ts';
import { setState } from '../src/viewer/state/store.ts';
import { withWaitingRows } from '../src/viewer/state/table-rows.ts';
import { loadSample, photoFeed, tf, toTensor, useBackend } from './helpers.ts';

const REF = 'cpu (reference)';
let refTrace: Trace;
let edgeTrace: Trace;

async function trace(backend: 'cpu' | 'wasm'): Promise<Trace> {
  await useBackend(backend);
  const { model } = await loadSample('emotion');
  const feed = await photoFeed('emotion', 'astronaut.png');
  const x = toTensor(feed);
  try {
    return await traceModel(model, { [feed.name]: x }, { capture: 'tensors', runs: 1, warmup: 0, modelName: 'emotion' });
  } finally {
    x.dispose();
    model.dispose();
  }
}

beforeAll(async () => {
  refTrace = await trace('cpu');
  edgeTrace = await trace('wasm');
  await useBackend('cpu');
}, 60_000);
afterAll(() => tf.disposeVariables());

let ref: RunState;
let edge: RunState;
let transport: TraceTransport;
let stop: () => void;

beforeEach(() => {
  ref = new RunState(REF, 'reference', 'cpu', 'worker');
  edge = new RunState('wasm', 'edge', 'wasm', 'worker');
  setState({ runs: [ref, edge], source: 'live', selectedRun: null });
  setCompareOptions({});
  transport = createInPageTransport();
  stop?.();
  stop = follow(transport);
});

/** Events up to (not including) the run's end: the edge's end would start the diagnosis worker. */
function streamOf(t: Trace): TraceEvent[] {
  return traceToEvents(t).filter((e) => e.type !== 'run-end');
}

const nodeCount = (events: TraceEvent[], upTo: number): number => events.slice(0, upTo).filter((e) => e.type === 'node').length;

/** What a full rebuild gives for the same state (a fresh LiveRows has seen nothing before). */
function fromScratch(run: RunState, reference: RunState | undefined): NodeRow[] {
  return new LiveRows(run, reference).update();
}

function tableOf(): ReturnType<typeof withWaitingRows> {
  return withWaitingRows(nodeRows(edge, ref), nodeRows(ref, undefined), REF);
}

describe('node rows while runs stream (emotion, cpu reference + wasm)', () => {
  it('the traces are what the checks assume: the same nodes in the same order, several outputs', () => {
    expect(refTrace.header.nodes.length).toBeGreaterThan(10);
    expect(edgeTrace.header.nodes.map((n) => n.name)).toEqual(refTrace.header.nodes.map((n) => n.name));
  });

  it('reference first: its nodes are waiting rows of the edge, replaced by the edge\'s own compared rows as they arrive', () => {
    const refEvents = streamOf(refTrace);
    const total = refTrace.header.nodes.reduce((n, node) => n + node.outputs.length, 0);
    let previous: NodeRow[] = [];
    for (let i = 0; i < refEvents.length; i++) {
      transport.send({ stream: REF, event: refEvents[i]! });
      const own = nodeRows(ref, undefined);
      expect(own).toEqual(fromScratch(ref, undefined));
      // Incremental: the rows of earlier nodes are the same objects, only new nodes made new rows.
      for (let k = 0; k < previous.length; k++) expect(own[k]).toBe(previous[k]);
      previous = own;
      const t = tableOf();
      const arrived = nodeCount(refEvents, i + 1);
      expect(t.own).toBe(0);
      expect(t.rows.length).toBe(t.waiting);
      expect(t.waiting).toBe(own.length);
      if (arrived > 0) expect(t.waiting).toBeGreaterThan(0);
      for (const [k, r] of t.rows.entries()) {
        expect(r.verdict).toBe('waiting');
        expect(r.from).toBe(REF);
        expect(r.nrmse).toBeNull();
        expect(r.ms).toBeNull();
        // The reference's shape, statistics and time.
        expect(r.shape).toEqual(own[k]!.shape);
        expect(r.stats).toBe(own[k]!.stats);
        expect(r.otherMs).toBe(own[k]!.ms);
      }
    }
    transport.send({ stream: REF, event: { type: 'run-end', outputs: refTrace.header.outputs, warnings: [] } });
    expect(ref.status).toBe('done');
    expect(tableOf().waiting).toBe(total);
    expect(tableOf().rows.every((r) => r.stats !== null && r.otherMs !== undefined)).toBe(true);
    expect(tableOf().rows.some((r) => r.otherMs !== null && r.otherMs! > 0)).toBe(true);

    // The edge streams: each of its nodes replaces a waiting row with its own, compared at once.
    const edgeEvents = streamOf(edgeTrace);
    let before: NodeRow[] = [];
    for (let i = 0; i < edgeEvents.length; i++) {
      transport.send({ stream: 'wasm', event: edgeEvents[i]! });
      const own = nodeRows(edge, ref);
      expect(own).toEqual(fromScratch(edge, ref));
      for (let k = 0; k < before.length; k++) expect(own[k]).toBe(before[k]);
      before = own;
      const t = tableOf();
      expect(t.own).toBe(own.length);
      expect(t.own + t.waiting).toBe(total);
      expect(t.rows.length).toBe(total);
      // Execution order throughout, own rows first (the edge runs in order), then the waiting ones.
      expect(t.rows.map((r) => r.index)).toEqual([...t.rows.map((r) => r.index)].sort((a, b) => a - b));
      for (const r of t.rows.slice(0, t.own)) {
        expect(r.from).toBeUndefined();
        expect(r.verdict).toBe('ok');
        expect(r.nrmse).not.toBeNull();
        expect(r.nrmse!).toBeLessThan(1e-5);
      }
      for (const r of t.rows.slice(t.own)) expect(r.verdict).toBe('waiting');
    }
    expect(tableOf().waiting).toBe(0);
  });

  it('edge first: its rows wait for the reference ("pending"), then fill in as the reference\'s nodes arrive', () => {
    const edgeEvents = streamOf(edgeTrace);
    for (const e of edgeEvents) transport.send({ stream: 'wasm', event: e });
    const pending = nodeRows(edge, ref);
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((r) => r.verdict === 'pending' && r.nrmse === null)).toBe(true);
    // Nothing new: the same array (views memoise on it).
    expect(nodeRows(edge, ref)).toBe(pending);
    expect(tableOf().waiting).toBe(0);

    const refEvents = streamOf(refTrace);
    for (let i = 0; i < refEvents.length; i++) {
      transport.send({ stream: REF, event: refEvents[i]! });
      const rows = nodeRows(edge, ref);
      expect(rows).toEqual(fromScratch(edge, ref));
      const refNames = new Set(ref.nodes.map((n) => n.name));
      for (const r of rows) {
        if (refNames.has(r.name)) {
          expect(r.verdict).toBe('ok');
          expect(r.nrmse!).toBeLessThan(1e-5);
        } else expect(r.verdict).toBe('pending');
      }
    }
  });

  it('metrics arriving out of order (a server\'s, or a strict tolerance): the first divergent row is the earliest in execution order', () => {
    for (const e of streamOf(refTrace)) transport.send({ stream: REF, event: e });
    for (const e of streamOf(edgeTrace)) transport.send({ stream: 'wasm', event: e });
    const rows = nodeRows(edge, ref);
    expect(rows.some((r) => r.firstDivergent)).toBe(false);
    const late = rows[rows.length - 2]!;
    const early = rows[3]!;
    const bad = { nrmse: 0.5, maxAbs: 1, cosine: 0.5, verdict: 'diverged' as const, reasons: ['nrmse 0.5 > 1e-5'] };
    edge.live.set(late.key, bad);
    edge.rev++;
    let now = nodeRows(edge, ref);
    expect(now).not.toBe(rows);
    expect(now.filter((r) => r.firstDivergent).map((r) => r.key)).toEqual([late.key]);
    edge.live.set(early.key, bad);
    edge.rev++;
    now = nodeRows(edge, ref);
    expect(now.filter((r) => r.firstDivergent).map((r) => r.key)).toEqual([early.key]);
    expect(now).toEqual(fromScratch(edge, ref));
    // The early one is fine after all: the first divergent is the late one again.
    edge.live.set(early.key, { ...bad, verdict: 'ok', reasons: [] });
    edge.rev++;
    now = nodeRows(edge, ref);
    expect(now.filter((r) => r.firstDivergent).map((r) => r.key)).toEqual([late.key]);
    expect(now).toEqual(fromScratch(edge, ref));
    // A new tolerance clears the live metrics (a new epoch): rows are rebuilt, not patched.
    edge.live.clear();
    edge.rev++;
    expect(nodeRows(edge, ref).every((r) => r.verdict === 'no-data' && r.nrmse === null)).toBe(true);
  });
});
