/**
 * `exray serve` shut down while a producer's `open` or `resume` is half done (the store is creating or
 * reopening the session's journal): the journal's file handle must still be closed. Otherwise it stays
 * open until a garbage collection finds it (Node: "Closing file descriptor N on garbage collection").
 * Real server, real sockets on 127.0.0.1; the store call is held until the server has closed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import type { SessionWriter } from '../src/server/session-writer.ts';
import { JournalWriter } from '../src/server/session-writer.ts';
import { makeTrace } from '../src/trace/test-fixtures.ts';
import { api, Client, runMeta, sessionItems, tempDataDir } from './server-helpers.ts';

const started: RunningServer[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});

async function start(dataDir: string): Promise<RunningServer> {
  const s = await startServer({ dataDir, staticDir: null, port: 0, locate: null, hub: { resumeGraceMs: 5000 } });
  started.push(s);
  return s;
}

async function pairDevice(s: RunningServer): Promise<{ deviceId: string; token: string }> {
  const r = await api(s.port, '/api/pair', { method: 'POST', token: s.credentials.pairingToken, body: { name: 'test phone', userAgent: 'Pixel 7' } });
  expect(r.status).toBe(200);
  return r.json as { deviceId: string; token: string };
}

/**
 * Wraps `store[method]` so the writer it returns is handed to the hub only when `release()` is called;
 * `reached` resolves with that writer as soon as the store has opened it.
 */
function holdWriter(s: RunningServer, method: 'create' | 'writer'): { reached: Promise<JournalWriter>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let reached!: (w: JournalWriter) => void;
  const opened = new Promise<JournalWriter>((r) => (reached = r));
  const store = s.store as unknown as Record<typeof method, (arg: never) => Promise<SessionWriter>>;
  const original = store[method].bind(s.store);
  store[method] = async (arg: never) => {
    const w = await original(arg);
    if (!(w instanceof JournalWriter)) throw new Error('the store returned no JournalWriter');
    reached(w);
    await gate;
    return w;
  };
  return { reached: opened, release };
}

describe('exray serve closing during a producer’s open or resume', () => {
  it('closes the journal of a session whose open was still creating it', async () => {
    const s = await start(await tempDataDir());
    const d = await pairDevice(s);
    const held = holdWriter(s, 'create');
    const phone = await Client.connect(s.port, d.token);
    phone.send({ t: 'open', run: runMeta(makeTrace()) });
    const writer = await held.reached;
    expect(writer.closed).toBe(false);
    await s.close();
    held.release();
    await vi.waitFor(() => expect(writer.closed).toBe(true), { timeout: 5000, interval: 20 });
  });

  it('closes the journal of a session whose resume was still reopening it', async () => {
    const dir = await tempDataDir();
    const first = await start(dir);
    const d = await pairDevice(first);
    const phone = await Client.connect(first.port, d.token);
    const trace = makeTrace();
    const id = await phone.open(runMeta(trace));
    const items = sessionItems(trace);
    await phone.stream(id, items.slice(0, 2));
    await first.close();

    const s = await start(dir);
    expect(s.store.get(id)?.status).toBe('streaming');
    const held = holdWriter(s, 'writer');
    const again = await Client.connect(s.port, d.token);
    again.send({ t: 'resume', session: id, lastAck: items[1]!.seq });
    const writer = await held.reached;
    expect(writer.closed).toBe(false);
    await s.close();
    held.release();
    await vi.waitFor(() => expect(writer.closed).toBe(true), { timeout: 5000, interval: 20 });
  });
});
