import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SocketProducer, type LinkStatus } from './socket.ts';
import { Backoff, type WebSocketLike } from './reconnect.ts';
import { CHUNK_BYTES, CLOSE, decodeBinaryFrame, type RunMeta, type ServerMessage } from './wire.ts';
import type { TraceEvent } from '../trace/types.ts';

/** A WebSocket stand-in: records what the producer sends; the test plays the server. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  bufferedAmount = 0;
  binaryType: 'blob' | 'arraybuffer' = 'blob';
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: (string | Uint8Array)[] = [];
  /** Count sent bytes into bufferedAmount (a slow link). */
  stall = false;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.all.push(this);
  }

  send(data: string | Uint8Array): void {
    this.sent.push(data);
    if (this.stall) this.bufferedAmount += typeof data === 'string' ? data.length : data.byteLength;
  }

  close(): void {
    this.readyState = 3;
  }

  /** Server side: accept and say hello. */
  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
    this.say({ t: 'hello', role: 'device', deviceId: 'd-1', server: 'test' });
  }

  say(m: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(m) });
  }

  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** What was sent, decoded: JSON messages as objects, binary frames as `{bin: kind, seq, id}`. */
  log(): { t?: string; seq?: number; bin?: string; id?: string; event?: TraceEvent }[] {
    return this.sent.map((d) => {
      if (typeof d === 'string') return JSON.parse(d) as { t: string; seq?: number };
      const f = decodeBinaryFrame(d);
      return { bin: f.kind, seq: f.seq, id: f.meta.id };
    });
  }

  seqs(): number[] {
    return this.log()
      .map((m) => m.seq)
      .filter((s): s is number => s !== undefined);
  }
}

const RUN: RunMeta = { model: { name: 'emotion', sha256: 'a'.repeat(64), format: 'tfjs-layers' }, label: 'webgl', backend: 'webgl', capture: 'tensors', device: { userAgent: 'test' } };
const SID = 's-0123456789abcdef';

function ev(event: TraceEvent): { stream: string; event: TraceEvent } {
  return { stream: 'webgl', event };
}

const progress = (done: number): TraceEvent => ({ type: 'progress', phase: 'capture pass', done, total: 10 });
const blob = (id: string, n: number): TraceEvent => ({ type: 'blob', id, data: new Float32Array(n).fill(1) });
const runEnd: TraceEvent = { type: 'run-end', outputs: [], warnings: [] };

function producer(extra: Partial<ConstructorParameters<typeof SocketProducer>[0]> = {}): { p: SocketProducer; states: LinkStatus[] } {
  const states: LinkStatus[] = [];
  const p = new SocketProducer({ url: 'ws://x/ws', token: 'abc', WebSocket: FakeSocket, lifecycle: null, onStatus: (s) => states.push(s), ...extra });
  return { p, states };
}

const last = (): FakeSocket => FakeSocket.all[FakeSocket.all.length - 1]!;

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SocketProducer', () => {
  it('opens a session, numbers photo, events and blob chunks, and ends on the final ack', async () => {
    const { p } = producer();
    const ws = last();
    expect(ws.protocols).toEqual(['exray.v1', 'exray-token.abc']);
    ws.accept();
    expect(ws.binaryType).toBe('arraybuffer');
    const opened = p.begin({ ...RUN, photo: { fileName: 'a.jpg', mimeType: 'image/jpeg', bytes: 3 } }, new Uint8Array([1, 2, 3]));
    expect(ws.log()).toEqual([{ t: 'open', run: { ...RUN, photo: { fileName: 'a.jpg', mimeType: 'image/jpeg', bytes: 3 } } }]);
    p.send(ev(progress(1))); // queued until opened
    ws.say({ t: 'opened', session: SID });
    await expect(opened).resolves.toBe(SID);
    p.send(ev(blob('big', CHUNK_BYTES / 4 + 10))); // two chunks
    p.send(ev(runEnd));
    const log = ws.log().slice(1);
    expect(log.map((m) => m.bin ?? m.event?.type)).toEqual(['attachment', 'progress', 'blob-f32', 'blob-f32', 'run-end']);
    expect(ws.seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(p.status.unackedBytes).toBeGreaterThan(CHUNK_BYTES);
    let outcome: unknown = null;
    void p.end().then((o) => (outcome = o));
    ws.say({ t: 'ack', session: SID, seq: 4 });
    expect(p.status.unackedBytes).toBeLessThan(200);
    await Promise.resolve();
    expect(outcome).toBeNull();
    ws.say({ t: 'ack', session: SID, seq: 5 });
    await expect(p.end()).resolves.toEqual({ session: SID, status: 'done', reason: null, warnings: [] });
    expect(p.status).toMatchObject({ state: 'open', unackedBytes: 0, sessions: 0 });
  });

  it('never writes past the high-water mark; queued frames go when the socket drains', async () => {
    const { p } = producer({ highWaterMark: 1000 });
    const ws = last();
    ws.accept();
    void p.begin(RUN);
    ws.say({ t: 'opened', session: SID });
    ws.stall = true;
    for (let i = 0; i < 5; i++) p.send(ev(blob(`b${i}`, 200))); // 800 payload bytes each
    // 1st and 2nd go (bufferedAmount 0, then ~850 ≤ 1000); the rest wait.
    expect(ws.seqs()).toEqual([1, 2]);
    expect(p.congested).toBe(true);
    let writable = false;
    void p.whenWritable().then(() => (writable = true));
    ws.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(25);
    expect(ws.seqs()).toEqual([1, 2, 3, 4]);
    expect(writable).toBe(false);
    ws.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(25);
    expect(ws.seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(p.congested).toBe(false);
    expect(writable).toBe(true);
  });

  it('reconnects with back-off, resumes from the server ack and resends the rest in order', async () => {
    const { p, states } = producer();
    const ws1 = last();
    ws1.accept();
    void p.begin(RUN);
    ws1.say({ t: 'opened', session: SID });
    for (let i = 1; i <= 6; i++) p.send(ev(progress(i)));
    ws1.say({ t: 'ack', session: SID, seq: 2 });
    ws1.drop(1006);
    expect(states.at(-1)).toMatchObject({ state: 'resuming', reason: 'connection closed (1006)' });
    await vi.advanceTimersByTimeAsync(249);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const ws2 = last();
    expect(FakeSocket.all).toHaveLength(2);
    ws2.accept();
    expect(ws2.log()).toEqual([{ t: 'resume', session: SID, lastAck: 2 }]);
    p.send(ev(progress(7))); // waits for `resumed`
    expect(ws2.log()).toHaveLength(1);
    ws2.say({ t: 'resumed', session: SID, ack: 4 }); // the server had 3 and 4 already
    expect(ws2.seqs()).toEqual([5, 6, 7]);
    expect(states.at(-1)?.state).toBe('open');
  });

  it('resends a chunked blob from the right chunk (each chunk has its own seq)', async () => {
    const { p } = producer();
    const ws1 = last();
    ws1.accept();
    void p.begin(RUN);
    ws1.say({ t: 'opened', session: SID });
    p.send(ev(blob('big', (CHUNK_BYTES / 4) * 2 + 1))); // seqs 1, 2, 3
    p.send(ev(progress(1))); // seq 4
    expect(ws1.seqs()).toEqual([1, 2, 3, 4]);
    ws1.say({ t: 'ack', session: SID, seq: 1 });
    ws1.drop();
    await vi.advanceTimersByTimeAsync(250);
    const ws2 = last();
    ws2.accept();
    ws2.say({ t: 'resumed', session: SID, ack: 2 });
    expect(ws2.log().slice(1)).toEqual([{ bin: 'blob-f32', seq: 3, id: 'big' }, expect.objectContaining({ t: 'ev', seq: 4 })]);
    ws2.say({ t: 'ack', session: SID, seq: 4 });
    expect(p.status.unackedBytes).toBe(0);
  });

  it('leaves out blobs that do not fit (their nodes keep statistics) and says so at run-end', async () => {
    const { p } = producer({ maxBufferedBytes: 10_000 });
    const ws = last(); // not accepted yet: nothing drains
    void p.begin(RUN);
    const node = (name: string, blobId: string): TraceEvent => ({ type: 'node', node: { index: 0, name, op: 'Relu', kernels: [], inputs: [], outputs: [{ shape: [1000], dtype: 'float32', blob: { id: blobId, encoding: 'float32', length: 1000 } }] } });
    p.send(ev(blob('a', 1000))); // 4 kB
    p.send(ev(node('a', 'a')));
    p.send(ev(blob('b', 1000))); // 8 kB
    p.send(ev(node('b', 'b')));
    const c = node('c', 'c');
    p.send(ev(blob('c', 1000))); // would be 12 kB: left out
    p.send(ev(c));
    // The final outputs are needed (a trace must have them): sent within the slack.
    p.send(ev(blob('out', 200)));
    p.send(ev({ type: 'run-end', outputs: [{ name: 'out', shape: [200], dtype: 'float32', blob: { id: 'out', encoding: 'float32', length: 200 } }], warnings: [] }));
    ws.accept();
    ws.say({ t: 'opened', session: SID });
    const log = ws.log().slice(1);
    expect(log.map((m) => m.bin ?? m.event?.type)).toEqual(['blob-f32', 'node', 'blob-f32', 'node', 'node', 'blob-f32', 'run-end']);
    const sentC = log[4]!.event as Extract<TraceEvent, { type: 'node' }>;
    expect(sentC.node.outputs[0]!.blob).toBeUndefined();
    expect((c as Extract<TraceEvent, { type: 'node' }>).node.outputs[0]!.blob?.id).toBe('c'); // the caller's event is untouched
    const end = log[6]!.event as Extract<TraceEvent, { type: 'run-end' }>;
    expect(end.outputs[0]!.blob?.id).toBe('out');
    expect(end.warnings[0]).toMatch(/^link too slow: the values of 1 tensors \(0\.0 MiB\) were not sent/);
    ws.say({ t: 'ack', session: SID, seq: 7 });
    await expect(p.end()).resolves.toMatchObject({ status: 'done', warnings: [end.warnings[0]] });
  });

  it('fails the session with "link too slow" when a blob it cannot leave out does not fit', async () => {
    const { p } = producer({ maxBufferedBytes: 10_000 });
    const ws = last();
    void p.begin(RUN);
    p.send(ev(blob('x', 2000))); // 8 kB
    p.send(ev({ type: 'run-start', id: 't', createdAt: '', capture: 'tensors', model: { name: 'm', format: 'tfjs-graph', sha256: '', inputs: [], outputs: [], nodeCount: 1 }, runtime: { name: 'tfjs', version: '', backend: 'webgl' }, environment: { kind: 'browser', userAgent: '', platform: '', hardwareConcurrency: 1, flags: {} }, input: { tensors: [{ name: 'in', shape: [1000], dtype: 'float32', blob: { id: 'in', encoding: 'float32', length: 1000 } }] } }));
    p.send(ev(blob('in', 1000))); // named by run-start, no room: fail
    p.send(ev(progress(1))); // ignored: the session is over on this side
    ws.accept();
    ws.say({ t: 'opened', session: SID });
    const log = ws.log().slice(1);
    expect(log.map((m) => m.bin ?? m.event?.type)).toEqual(['blob-f32', 'run-start', 'run-error']);
    const err = log[2]!.event as { message: string };
    expect(err.message).toMatch(/^link too slow: 0\.0 MiB unacknowledged \(limit 0 MiB\)$/);
    ws.say({ t: 'ack', session: SID, seq: 3 });
    await expect(p.end()).resolves.toMatchObject({ status: 'failed', reason: err.message });
  });

  it('runs sessions one after the other: the next open waits for the previous final ack', async () => {
    const { p } = producer();
    const ws = last();
    ws.accept();
    void p.begin(RUN);
    ws.say({ t: 'opened', session: SID });
    p.send(ev(progress(1)));
    p.send(ev(runEnd));
    const second = p.begin({ ...RUN, label: 'wasm', backend: 'wasm' });
    p.send(ev(progress(1)));
    expect(ws.log().filter((m) => m.t === 'open')).toHaveLength(1);
    ws.say({ t: 'ack', session: SID, seq: 2 });
    expect(ws.log().filter((m) => m.t === 'open')).toHaveLength(2);
    ws.say({ t: 'opened', session: 's-00000000000000ff' });
    await expect(second).resolves.toBe('s-00000000000000ff');
    expect(ws.log().at(-1)).toMatchObject({ t: 'ev', seq: 1 });
  });

  it('a refused session rejects begin(), reports the reason and lets the next one open', async () => {
    const { p } = producer();
    const ws = last();
    ws.accept();
    const first = p.begin(RUN);
    p.send(ev(progress(1)));
    ws.say({ t: 'refused', session: null, reason: 'storage limit: 2 GiB used' });
    await expect(first).rejects.toThrow('storage limit: 2 GiB used');
    await expect(p.end()).resolves.toMatchObject({ status: 'refused', reason: 'storage limit: 2 GiB used' });
    expect(p.status.unackedBytes).toBe(0);
    void p.begin(RUN);
    expect(ws.log().filter((m) => m.t === 'open')).toHaveLength(2);
  });

  it('stops for good when the device is revoked', async () => {
    const { p, states } = producer();
    const ws = last();
    ws.accept();
    void p.begin(RUN);
    ws.drop(CLOSE.revoked, 'revoked');
    expect(states.at(-1)).toMatchObject({ state: 'closed', final: true, reason: 'this phone was unpaired: scan the QR code again' });
    await expect(p.end()).resolves.toMatchObject({ status: 'failed' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    await expect(p.whenWritable()).resolves.toBeUndefined();
  });

  it('pings every 15 s and reconnects when nothing was heard for 30 s', async () => {
    producer();
    const ws = last();
    ws.accept();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(ws.log()).toEqual([{ t: 'ping', n: 1 }]);
    ws.say({ t: 'pong', n: 1 });
    await vi.advanceTimersByTimeAsync(15_000); // ping 2 at 30 s, unanswered
    await vi.advanceTimersByTimeAsync(15_000); // ping 3
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(15_000); // 30 s after ping 2: dead
    expect(ws.readyState).toBe(3);
    await vi.advanceTimersByTimeAsync(250);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('gives up on a socket that hangs while connecting, and on a session the server closed for a protocol error', async () => {
    const { p, states } = producer();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(states.at(-1)?.reason).toBe('no answer from the server while connecting');
    await vi.advanceTimersByTimeAsync(250);
    const ws = last();
    expect(FakeSocket.all).toHaveLength(2);
    ws.accept();
    void p.begin(RUN);
    ws.say({ t: 'opened', session: SID });
    p.send(ev(progress(1)));
    ws.drop(CLOSE.protocol, 'seq 5 after 3: gap');
    await expect(p.end()).resolves.toMatchObject({ status: 'failed', reason: 'seq 5 after 3: gap' });
    expect(p.status.unackedBytes).toBe(0);
    await vi.advanceTimersByTimeAsync(250);
    expect(FakeSocket.all).toHaveLength(3); // the link itself comes back
    // When the server names the session before closing, only that one fails; the next one opens.
    const ws3 = last();
    ws3.accept();
    void p.begin(RUN);
    ws3.say({ t: 'opened', session: SID });
    p.send(ev(runEnd));
    const next = p.begin({ ...RUN, label: 'wasm' });
    ws3.say({ t: 'error', session: SID, message: 'out-of-order' });
    ws3.drop(CLOSE.protocol, 'out-of-order');
    await vi.advanceTimersByTimeAsync(250);
    last().accept();
    expect(last().log()).toEqual([{ t: 'open', run: { ...RUN, label: 'wasm' } }]);
    last().say({ t: 'opened', session: 's-00000000000000ff' });
    await expect(next).resolves.toBe('s-00000000000000ff');
  });

  it('closes the socket on pagehide and resumes on pageshow from the bfcache', async () => {
    let handlers: { hide(): void; show(p: boolean): void; visible(): void } | null = null;
    const { p, states } = producer({ lifecycle: { listen: (h) => ((handlers = h), () => {}) } });
    const ws = last();
    ws.accept();
    void p.begin(RUN);
    ws.say({ t: 'opened', session: SID });
    p.send(ev(progress(1)));
    handlers!.hide();
    expect(ws.readyState).toBe(3);
    expect(states.at(-1)?.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.all).toHaveLength(1); // no reconnection while in the bfcache
    handlers!.show(true);
    const ws2 = last();
    expect(FakeSocket.all).toHaveLength(2);
    ws2.accept();
    expect(ws2.log()).toEqual([{ t: 'resume', session: SID, lastAck: 0 }]);
  });
});

describe('Backoff', () => {
  it('doubles from 0.25 s to 5 s and allows at most 12 attempts a minute', () => {
    const b = new Backoff();
    let t = 0;
    const delays: number[] = [];
    for (let i = 0; i < 14; i++) {
      const d = b.next(t);
      delays.push(d);
      t += d;
    }
    expect(delays.slice(0, 7)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    // 12 attempts by t = 47.75 s: the 13th waits until the 1st is a minute old.
    expect(delays[12]).toBeGreaterThan(5000);
    b.reset();
    expect(b.next(10 * 60_000)).toBe(250);
  });
});
