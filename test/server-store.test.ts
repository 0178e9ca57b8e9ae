/**
 * The session store of `exray serve` on a real temp directory: real traces streamed through the wire
 * encoding into the journal, folded, reopened, resumed, cut short, limited, and attacked with bad ids.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRecord, JOURNAL_EVENT } from '../src/server/journal.ts';
import { SessionIdError, SessionStore, StoreLimitError, UnknownSessionError } from '../src/server/store.ts';
import { TraceFormatError } from '../src/trace/errors.ts';
import { traceToEvents } from '../src/trace/events.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';
import { validateTrace } from '../src/trace/schema.ts';
import { makeTrace } from '../src/trace/test-fixtures.ts';
import type { TraceEvent } from '../src/trace/types.ts';
import { bigTrace, blobBytes, crash, expectSameTrace, send, sessionInfo, snapshot, tmpDir, wireItems } from './server-store-helpers.ts';

const quiet = { warn: () => undefined };
/** The data directories the current test opened stores on (checked for open files after it). */
const opened = new Set<string>();
const open = (dir: string, limits = {}) => {
  opened.add(dir);
  return SessionStore.open(dir, limits, quiet);
};
const sessionPath = (data: string, id: string, file = '') => join(data, 'sessions', id, file);

// A writer left open keeps its journal's file handle until a garbage collection closes it with a
// warning, in whatever test file the worker runs by then: fail the test that left it instead. Open
// files are listed from /proc (Linux; elsewhere nothing is checked).
afterEach(() => {
  const dirs = [...opened].map((d) => `${d}/`);
  opened.clear();
  if (!existsSync('/proc/self/fd')) return;
  const files = readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return ''; // closed since it was listed (the listing's own fd, for one)
    }
  });
  expect(files.filter((path) => dirs.some((d) => path.startsWith(d)))).toEqual([]);
});

describe('SessionStore: a run streamed, folded and stored', () => {
  it('stores a trace that decodes equal to the original (NaN statistics, int32 input, shared blob)', async () => {
    const data = tmpDir();
    const store = await open(data);
    const trace = makeTrace(3);
    const info = sessionInfo();
    const w = await store.create(info);
    const items = wireItems([...traceToEvents(trace).slice(0, 3), { type: 'progress', phase: 'capture pass', done: 1, total: 6 }, ...traceToEvents(trace).slice(3)]);
    await send(w, items);
    expect(w.lastSeq).toBe(items.length);
    expect(store.get(info.id)).toMatchObject({ nodes: 6, blobBytes: blobBytes(trace), declaredNodes: 7, gpu: 'Mali-G710' });

    const folded = await w.finalize();
    expectSameTrace(folded, trace);
    const stored = decodeTrace(new Uint8Array(readFileSync(sessionPath(data, info.id, 'edge.exray'))), 'edge.exray');
    expectSameTrace(stored, trace);
    expect(existsSync(sessionPath(data, info.id, 'edge.journal'))).toBe(false);
    const json = JSON.parse(readFileSync(sessionPath(data, info.id, 'session.json'), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ id: info.id, status: 'done', reason: null, lastSeq: items.length, nodes: 6 });
    expect(store.get(info.id)).toMatchObject({ status: 'done', nodes: 6, blobBytes: blobBytes(trace) });
    expect(store.get(info.id)).not.toHaveProperty('lastSeq');
    // Replay after the journal is gone: the final trace as events.
    const replay = await store.events(info.id);
    expect(replay.map((e) => e.type)).toEqual(traceToEvents(trace).map((e) => e.type));
    expectSameTrace(await store.readTrace(info.id), trace);
    await expect(w.appendEvent(items.length + 1, { type: 'progress', phase: 'x', done: 0, total: 0 })).rejects.toThrow(/closed/);
  });

  it('assembles a blob sent as several wire chunks, byte for byte', async () => {
    const data = tmpDir();
    const store = await open(data);
    const trace = bigTrace();
    const items = wireItems(traceToEvents(trace));
    expect(items.filter((i) => 'frame' in i).length).toBe(4); // input + 3 chunks
    const w = await store.create(sessionInfo());
    await send(w, items);
    const events = await store.events(w.id);
    const blob = events.find((e): e is Extract<TraceEvent, { type: 'blob' }> => e.type === 'blob' && e.id === 'big-0');
    expect(blob?.data.length).toBe(trace.blobs.get('big-0')!.length);
    expectSameTrace(await store.readTrace(w.id), trace); // folded from the journal, before finalize
    expectSameTrace(await w.finalize(), trace);
    expectSameTrace(decodeTrace(new Uint8Array(readFileSync(sessionPath(data, w.id, 'edge.exray'))), 'x'), trace);
  });

  it('refuses appends out of seq order and frames whose seq disagrees, writing nothing', async () => {
    const store = await open(tmpDir());
    const w = await store.create(sessionInfo());
    const items = wireItems(traceToEvents(makeTrace()));
    await send(w, items.slice(0, 2));
    const journal = sessionPath(store.dir, w.id, 'edge.journal');
    const size = statSync(journal).size;
    const first = items[0]!;
    if (!('event' in first)) throw new Error('run-start first');
    await expect(w.appendEvent(2, first.event)).rejects.toThrow(/seq 2 does not follow the last stored seq 2 \(expected 3\)/);
    await expect(w.appendEvent(4, first.event)).rejects.toThrow(/seq 4 does not follow the last stored seq 2/);
    const frame = items.find((i) => 'frame' in i && i.seq > 2)!;
    if (!('frame' in frame)) throw new Error('unreachable');
    await expect(w.appendFrame(frame.seq + 5, frame.frame)).rejects.toThrow(/carries seq/);
    await expect(w.appendFrame(3, new Uint8Array([1, 2, 3]))).rejects.toThrow(/shorter than/);
    expect(statSync(journal).size).toBe(size);
    expect(w.lastSeq).toBe(2);
    await w.close();
  });

  it('stores the photo, the reference, compare.json and diagnosis.json, and exports them', async () => {
    const data = tmpDir();
    const store = await open(data);
    const trace = makeTrace();
    const w = await store.create(sessionInfo());
    await send(w, wireItems(traceToEvents(trace)));
    const photo = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    await w.putPhoto(photo, '../../etc/passwd.jpg', 'image/jpeg');
    await w.finalize();
    const ref = makeTrace(9);
    await store.putReference(w.id, ref);
    await store.putJson(w.id, 'compare', { verdict: 'diverged', summary: 'x', firstDivergent: { name: 'n', op: 'Conv2D' } });
    await store.putJson(w.id, 'diagnosis', { cause: 'f16' });
    expect(await store.photo(w.id)).toEqual({ bytes: photo, fileName: '../../etc/passwd.jpg', mimeType: 'image/jpeg' });
    expect(store.get(w.id)?.hasPhoto).toBe(true);
    expectSameTrace((await store.readReference(w.id))!, ref);
    expect(await store.readJson(w.id, 'diagnosis')).toEqual({ cause: 'f16' });
    const json = JSON.parse(readFileSync(sessionPath(data, w.id, 'session.json'), 'utf8')) as { photo: unknown };
    expect(json.photo).toEqual({ fileName: '../../etc/passwd.jpg', mimeType: 'image/jpeg', bytes: 7 });

    const out = join(tmpDir(), 'export');
    const files = await store.exportTo(w.id, out);
    expect(files.map((f) => f.slice(out.length + 1)).sort()).toEqual(['compare.json', 'diagnosis.json', 'edge.exray', 'photo.jpg', 'reference.exray', 'session.json']);
    expect(readdirSync(out).sort()).toEqual(files.map((f) => f.slice(out.length + 1)).sort());
    expectSameTrace(decodeTrace(new Uint8Array(readFileSync(join(out, 'edge.exray'))), 'x'), trace);
    expect(new Uint8Array(readFileSync(join(out, 'photo.jpg')))).toEqual(photo);
  });

  it('remove deletes the directory and its bytes from the total', async () => {
    const store = await open(tmpDir());
    const a = await store.create(sessionInfo());
    await send(a, wireItems(traceToEvents(makeTrace())));
    await a.finalize();
    const before = store.totalBytes();
    const b = await store.create(sessionInfo());
    await send(b, wireItems(traceToEvents(makeTrace(2))).slice(0, 5));
    await store.remove(b.id); // with its writer still open
    expect(existsSync(sessionPath(store.dir, b.id))).toBe(false);
    expect(store.totalBytes()).toBe(before);
    expect(store.list().map((s) => s.id)).toEqual([a.id]);
    await expect(store.remove(b.id)).rejects.toBeInstanceOf(UnknownSessionError);
  });
});

describe('SessionStore: restart, resume, crash', () => {
  it('reopening rebuilds the index from disk (newest first, streaming kept, sizes, counters from the journal)', async () => {
    const data = tmpDir();
    const store = await open(data);
    const done = await store.create(sessionInfo({ createdAt: '2025-01-01T00:00:00.000Z' }));
    await send(done, wireItems(traceToEvents(makeTrace())));
    await done.finalize();
    const live = await store.create(sessionInfo({ createdAt: '2025-02-01T00:00:00.000Z' }));
    const items = wireItems(traceToEvents(makeTrace(2)));
    await send(live, items.slice(0, 12));
    await crash(live); // the server dies here: session.json still says 0 nodes
    const nodesSoFar = items.slice(0, 12).filter((i) => 'event' in i && i.event.type === 'node').length;
    expect(nodesSoFar).toBeGreaterThan(0);

    const again = await open(data);
    expect(again.list().map((s) => [s.id, s.status])).toEqual([
      [live.id, 'streaming'],
      [done.id, 'done'],
    ]);
    expect(again.get(live.id)?.nodes).toBe(nodesSoFar);
    expect(again.totalBytes()).toBe(Object.values(snapshot(join(data, 'sessions'))).reduce((a, s) => a + Number(s.split(':')[0]), 0));
    expect(again.totalBytes()).toBe(store.totalBytes());
    expectSameTrace(await again.readTrace(done.id), makeTrace());
  });

  it('writer() resumes after a restart knowing lastSeq; a record cut short by the crash is dropped first', async () => {
    const data = tmpDir();
    const store = await open(data);
    const trace = makeTrace(5);
    const items = wireItems(traceToEvents(trace));
    const w = await store.create(sessionInfo());
    await send(w, items.slice(0, 10));
    await crash(w);
    // Crash mid-write: half of record 11 reached the disk.
    const next = items[10]!;
    const rec = 'frame' in next ? encodeRecord(next.seq, 1, next.frame) : encodeRecord(next.seq, JOURNAL_EVENT, new TextEncoder().encode(JSON.stringify(next.event)));
    const journal = sessionPath(data, w.id, 'edge.journal');
    appendFileSync(journal, rec.subarray(0, Math.floor(rec.length / 2)));

    const warnings: string[] = [];
    const again = await SessionStore.open(data, {}, { warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/cut-short record/);
    // Reading ignores the torn tail.
    const events = await again.events(w.id);
    expect(events.length).toBeGreaterThan(0);
    const resumed = await again.writer(w.id);
    expect(resumed.lastSeq).toBe(10);
    await expect(again.writer(w.id)).rejects.toThrow(/already has an open writer/);
    await send(resumed, items.slice(10));
    expectSameTrace(await resumed.finalize(), trace);
    expect(again.get(w.id)?.status).toBe('done');
    await expect(again.writer(w.id)).rejects.toThrow(/is done/);
  });

  it('an incomplete session reads as a valid partial trace that says what is missing', async () => {
    const data = tmpDir();
    const store = await open(data);
    const trace = makeTrace();
    // A producer that sends each node before its output blob (allowed), cut off after the 4th node.
    const events = traceToEvents(trace);
    const reordered: TraceEvent[] = [];
    let held: TraceEvent[] = [];
    for (const e of events) {
      if (e.type === 'blob' && reordered.length > 0 && !trace.header.input.tensors.some((t) => t.blob?.id === e.id)) held.push(e);
      else {
        reordered.push(e);
        if (e.type === 'node') {
          reordered.push(...held);
          held = [];
        }
      }
    }
    const cut = reordered.findIndex((e) => e.type === 'node' && e.node.index === 3) + 1;
    const w = await store.create(sessionInfo());
    await send(w, wireItems(reordered.slice(0, cut)));
    await w.markIncomplete('the device disconnected');
    expect(store.get(w.id)).toMatchObject({ status: 'incomplete', reason: 'the device disconnected', nodes: 4 });
    expect(existsSync(sessionPath(data, w.id, 'edge.journal'))).toBe(true);

    const partial = await (await open(data)).readTrace(w.id);
    validateTrace(partial, 'partial');
    expect(() => encodeTrace(partial)).not.toThrow();
    expect(partial.header.nodes.map((n) => n.name)).toEqual(trace.header.nodes.slice(0, 4).map((n) => n.name));
    expect(partial.header.nodes[3]!.outputs[0]!.blob).toBeUndefined();
    expect(partial.header.nodes[3]!.outputs[0]!.stats).toEqual(trace.header.nodes[3]!.outputs[0]!.stats);
    expect(partial.header.nodes[1]!.outputs[0]).toEqual(trace.header.nodes[1]!.outputs[0]);
    expect(partial.header.outputs).toEqual([]);
    expect(partial.header.warnings).toContain('incomplete: the run did not finish; 4 of 7 nodes arrived');
    expect(partial.header.warnings.join('\n')).toMatch(/1 node output\(s\) keep shape and statistics but their values never arrived/);
    expect(partial.header.input).toEqual(trace.header.input);

    const out = join(tmpDir(), 'x');
    await store.exportTo(w.id, out);
    expect(decodeTrace(new Uint8Array(readFileSync(join(out, 'edge.exray'))), 'x').header.nodes.length).toBe(4);
  });

  it('a run-error run is stored as failed with its message, its partial trace returned and the journal kept', async () => {
    const store = await open(tmpDir());
    const events = traceToEvents(makeTrace()).slice(0, 6);
    const w = await store.create(sessionInfo());
    await send(w, wireItems([...events, { type: 'run-error', message: 'WebGL context lost' }]));
    const t = await w.finalize();
    expect(t.header.warnings).toContain('incomplete: the run failed: WebGL context lost');
    expect(store.get(w.id)).toMatchObject({ status: 'failed', reason: 'WebGL context lost' });
    expect((await store.events(w.id)).at(-1)).toEqual({ type: 'run-error', message: 'WebGL context lost' });
  });

  it('a run that ended without all its blobs is failed, with the reason, and still readable', async () => {
    const store = await open(tmpDir());
    const trace = makeTrace();
    const missing = trace.header.nodes[1]!.outputs[0]!.blob!.id;
    const w = await store.create(sessionInfo());
    await send(w, wireItems(traceToEvents(trace).filter((e) => !(e.type === 'blob' && e.id === missing))));
    const t = await w.finalize();
    expect(store.get(w.id)?.status).toBe('failed');
    expect(store.get(w.id)?.reason).toMatch(new RegExp(`^the trace is invalid: blob '${missing}' referenced by nodes\\[1\\]\\.outputs\\[0\\]\\.blob is missing`));
    expect(t.header.nodes[1]!.outputs[0]!.blob).toBeUndefined();
    expect(t.header.outputs).toEqual(trace.header.outputs);
    expect(t.header.warnings.join('\n')).toMatch(/does not make a valid trace/);
    expectSameTrace(await store.readTrace(w.id), t);
  });

  it('no trace without run-start; finalize refuses a run that has not ended', async () => {
    const store = await open(tmpDir());
    const w = await store.create(sessionInfo());
    await expect(store.readTrace(w.id)).rejects.toThrow(TraceFormatError);
    await send(w, wireItems(traceToEvents(makeTrace()).slice(0, 3)));
    await expect(w.finalize()).rejects.toThrow(/neither run-end nor run-error/);
    expect(store.get(w.id)?.status).toBe('streaming');
    await w.close();
  });

  it('open() skips what is not a session, with a warning, and never crashes', async () => {
    const data = tmpDir();
    const store = await open(data);
    const good = await store.create(sessionInfo());
    await good.close();
    const root = join(data, 'sessions');
    mkdirSync(join(root, 's-nothex'));
    mkdirSync(join(root, 's-0000000000000001'));
    mkdirSync(join(root, 's-0000000000000002'));
    writeFileSync(join(root, 's-0000000000000002', 'session.json'), '{"id": "s-0000000000000002", "status": ');
    mkdirSync(join(root, 's-0000000000000003'));
    writeFileSync(join(root, 's-0000000000000003', 'session.json'), readFileSync(join(root, good.id, 'session.json')));
    writeFileSync(join(root, 's-0000000000000004'), 'a file');
    const warnings: string[] = [];
    const again = await SessionStore.open(data, {}, { warn: (m) => warnings.push(m) });
    expect(again.list().map((s) => s.id)).toEqual([good.id]);
    expect(warnings.length).toBe(5);
    expect(warnings.join('\n')).toMatch(/s-nothex.*invalid session id/);
    expect(warnings.join('\n')).toMatch(new RegExp(`names session ${good.id}, not s-0000000000000003`));
  });
});

describe('SessionStore: limits and ids', () => {
  it('refuses an append over the per-session limit before writing; other sessions untouched', async () => {
    const data = tmpDir();
    const store = await open(data, { sessionBytes: 6000 });
    const other = await store.create(sessionInfo());
    await send(other, wireItems(traceToEvents(makeTrace())).slice(0, 3));
    await other.close();
    const before = snapshot(join(data, 'sessions', other.id));

    const w = await store.create(sessionInfo());
    const items = wireItems(traceToEvents(makeTrace(2)));
    let refused: unknown;
    let stored = 0;
    for (const it of items) {
      const size = statSync(sessionPath(data, w.id, 'edge.journal')).size;
      try {
        await ('frame' in it ? w.appendFrame(it.seq, it.frame) : w.appendEvent(it.seq, it.event));
        stored++;
      } catch (e) {
        refused = e;
        expect(statSync(sessionPath(data, w.id, 'edge.journal')).size).toBe(size);
        break;
      }
    }
    expect(refused).toBeInstanceOf(StoreLimitError);
    expect((refused as StoreLimitError).limit).toBe('session');
    expect((refused as Error).message).toMatch(/per-session limit of 5\.9 KiB/);
    expect(w.lastSeq).toBe(stored);
    expect(statSync(sessionPath(data, w.id, 'edge.journal')).size).toBeLessThanOrEqual(6000);
    expect(snapshot(join(data, 'sessions', other.id))).toEqual(before);
    await w.close();
  });

  it('refuses appends and new sessions over the total limit', async () => {
    const data = tmpDir();
    const first = await open(data);
    const a = await first.create(sessionInfo());
    await send(a, wireItems(traceToEvents(makeTrace())));
    await a.finalize();
    const used = first.totalBytes();
    const store = await open(data, { totalBytes: used + 6000 });
    const before = snapshot(join(data, 'sessions', a.id));
    const w = await store.create(sessionInfo());
    const items = wireItems(traceToEvents(makeTrace(2)));
    const err = await send(w, items).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreLimitError);
    expect((err as StoreLimitError).limit).toBe('total');
    expect(store.totalBytes()).toBeLessThanOrEqual(used + 6000);
    // Everything after the refused item was refused too (no gap), so what is stored still reads.
    expect((await store.events(w.id)).length).toBe(w.lastSeq);
    expect((await store.readTrace(w.id)).header.warnings[0]).toMatch(/^incomplete: the run did not finish/);
    expect(snapshot(join(data, 'sessions', a.id))).toEqual(before);
    await w.close();
    const full = await open(data, { totalBytes: used });
    await expect(full.create(sessionInfo())).rejects.toThrow(/total store limit/);
  });

  it('refuses malformed ids everywhere, naming them, and never touches a path built from one', async () => {
    const data = tmpDir();
    const store = await open(data);
    const bad = ['../s-0123456789abcdef', 's-0123456789abcdef\0', '/etc', 's-XYZ', 's-0123456789ABCDEF', '', 's-0123456789abcdef/..', '..'];
    const trace = makeTrace();
    for (const id of bad) {
      const calls: (() => unknown)[] = [
        () => store.get(id),
        () => store.create(sessionInfo({ id })),
        () => store.writer(id),
        () => store.update(id, { status: 'done' }),
        () => store.remove(id),
        () => store.events(id),
        () => store.readTrace(id),
        () => store.readReference(id),
        () => store.putReference(id, trace),
        () => store.putJson(id, 'compare', {}),
        () => store.readJson(id, 'compare'),
        () => store.photo(id),
        () => store.exportTo(id, join(data, 'out')),
        () => store.sessionBytes(id),
      ];
      for (const call of calls) {
        let caught: unknown;
        try {
          await call();
        } catch (e) {
          caught = e;
        }
        expect(caught, `${JSON.stringify(id)}: ${call.toString()}`).toBeInstanceOf(SessionIdError);
        expect((caught as Error).message).toContain(JSON.stringify(id));
      }
    }
    expect(readdirSync(data)).toEqual(['sessions']);
    expect(readdirSync(join(data, 'sessions'))).toEqual([]);
    await expect(store.readTrace('s-0123456789abcdef')).rejects.toBeInstanceOf(UnknownSessionError);
    const w = await store.create(sessionInfo());
    await expect(store.update(w.id, { id: 's-0000000000000000' })).rejects.toThrow(/cannot change the id/);
    await w.close();
  });
});
