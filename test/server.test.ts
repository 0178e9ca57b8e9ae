/**
 * `exray serve` over loopback with real sockets: who may connect, a MobileNetV2 trace streamed as a
 * phone would, and the faults the phone link must survive (socket killed, server restarted, page
 * reloaded, malformed / oversized / out-of-order messages, hostile ids and Host headers). All traffic
 * goes to 127.0.0.1 (and 127.0.0.2 standing in for a LAN address).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeTrace } from '../src/trace/file.ts';
import type { Trace } from '../src/trace/types.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { CLOSE, encodeBinaryFrame } from '../src/transport/wire.ts';
import { edgeCase } from './diagnose-helpers.ts';
import { api, Client, runMeta, sessionItems, tempDataDir } from './server-helpers.ts';

let edge: Trace;
let dataDir: string;
let server: RunningServer;

function expectSameTrace(stored: Trace, sent: Trace): void {
  expect(stored.header.nodes.length).toBe(sent.header.nodes.length);
  expect(stored.header.kernels.length).toBe(sent.header.kernels.length);
  expect(stored.blobs.size).toBe(sent.blobs.size);
  for (const [id, data] of sent.blobs) {
    const got = stored.blobs.get(id);
    expect(got, id).toBeDefined();
    expect(Buffer.from(got!.buffer, got!.byteOffset, got!.byteLength).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength)), id).toBe(true);
  }
  expect(JSON.stringify(stored.header.nodes)).toBe(JSON.stringify(sent.header.nodes));
}

async function storedTrace(s: RunningServer, id: string): Promise<Trace> {
  const r = await api(s.port, `/api/sessions/${id}/trace`);
  expect(r.status).toBe(200);
  return decodeTrace(r.bytes, `${id}.exray`);
}

async function pairDevice(s: RunningServer): Promise<{ deviceId: string; token: string }> {
  const r = await api(s.port, '/api/pair', { method: 'POST', token: s.credentials.pairingToken, body: { name: 'test phone', userAgent: 'Pixel 7' } });
  expect(r.status).toBe(200);
  return r.json as { deviceId: string; token: string };
}

beforeAll(async () => {
  edge = (await edgeCase({ model: 'nsfw-mobilenet-v2', photo: 'chelsea.png' })).edge;
  dataDir = await tempDataDir();
  server = await startServer({ dataDir, staticDir: null, port: 0, lanHosts: ['127.0.0.2'], locate: null, hub: { resumeGraceMs: 1500 } });
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('who may connect', () => {
  it('refuses sockets without a token or with a wrong one (401, no data)', async () => {
    await expect(Client.connect(server.port, null)).rejects.toThrow('HTTP 401');
    await expect(Client.connect(server.port, 'ab'.repeat(16))).rejects.toThrow('HTTP 401');
    expect(server.store.list()).toHaveLength(0);
  });

  it('the LAN listener needs a token for every API request; loopback is the desktop', async () => {
    expect((await api(server.port, '/api/sessions', { address: '127.0.0.2', host: `127.0.0.2:${server.port}` })).status).toBe(401);
    expect((await api(server.port, '/api/whoami', { address: '127.0.0.2', host: `127.0.0.2:${server.port}` })).status).toBe(401);
    const me = await api(server.port, '/api/whoami');
    expect(me.json).toMatchObject({ role: 'desktop', token: server.credentials.desktopToken });
    // A desktop token obtained on loopback works from the LAN listener too, but never reveals itself there.
    const lan = await api(server.port, '/api/whoami', { address: '127.0.0.2', host: `127.0.0.2:${server.port}`, token: server.credentials.desktopToken });
    expect(lan.json).toMatchObject({ role: 'desktop', token: null });
  });

  it('refuses other Host names (DNS rebinding) and cross-site Origins', async () => {
    expect((await api(server.port, '/api/sessions', { host: 'evil.example:80' })).status).toBe(421);
    expect((await api(server.port, '/api/sessions', { origin: 'http://evil.example' })).status).toBe(403);
    await expect(Client.connect(server.port, server.credentials.desktopToken, { headers: { host: 'rebind.example' } })).rejects.toThrow('HTTP 421');
    await expect(Client.connect(server.port, server.credentials.desktopToken, { headers: { origin: 'http://evil.example' } })).rejects.toThrow('HTTP 403');
  });

  it('pairs a phone once per code, and a revoked phone is cut off', async () => {
    const used = server.credentials.pairingToken;
    const d = await pairDevice(server);
    expect((await api(server.port, '/api/pair', { method: 'POST', token: used, body: { name: 'again' } })).status).toBe(401);
    const who = await api(server.port, '/api/whoami', { address: '127.0.0.2', host: `127.0.0.2:${server.port}`, token: d.token });
    expect(who.json).toMatchObject({ role: 'device', deviceId: d.deviceId, token: null });
    expect((await api(server.port, '/api/sessions', { address: '127.0.0.2', host: `127.0.0.2:${server.port}`, token: d.token })).status).toBe(403);
    const phone = await Client.connect(server.port, d.token, { host: '127.0.0.2' });
    expect((await phone.next('hello')).role).toBe('device');
    expect((await api(server.port, `/api/devices/${d.deviceId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await phone.whenClosed()).code).toBe(CLOSE.revoked);
    await expect(Client.connect(server.port, d.token)).rejects.toThrow('HTTP 401');
  });

  it('refuses hostile session ids in the API', async () => {
    for (const id of ['..%2F..%2Fetc', '%00', '%2Fetc%2Fpasswd', 's-XYZ', 's-0123456789abcdef%2F..']) {
      const r = await api(server.port, `/api/sessions/${id}/trace`);
      expect([400, 404], id).toContain(r.status);
    }
    expect((await api(server.port, '/api/sessions/s-0123456789abcdef/trace')).status).toBe(404);
  });
});

describe('a phone streams MobileNetV2', () => {
  it('stores a byte-identical trace, with the photo, and lists it to the desktop live', async () => {
    const d = await pairDevice(server);
    const desk = await Client.connect(server.port, server.credentials.desktopToken);
    await desk.next('sessions');
    const photo = new Uint8Array(await readFile('public/samples/chelsea.png'));
    const phone = await Client.connect(server.port, d.token, { host: '127.0.0.2' });
    const id = await phone.open(runMeta(edge, { fileName: 'chelsea.png', bytes: photo.byteLength }));
    const items = sessionItems(edge, photo);
    const half = Math.floor(items.length / 2);
    await phone.stream(id, items.slice(0, half));
    // The desktop sees the session streaming before it ends, then watches it.
    expect((await desk.next('session', (m) => m.info.id === id)).info.status).toBe('streaming');
    desk.send({ t: 'watch', session: id });
    await phone.stream(id, items.slice(half));
    const done = await desk.next('session', (m) => m.info.id === id && m.info.status === 'done');
    expect(done.info.nodes).toBe(edge.header.nodes.length);
    expect(done.info.hasPhoto).toBe(true);
    expect(done.info.device).toContain('Pixel 7');
    expectSameTrace(await storedTrace(server, id), edge);
    expect((await api(server.port, `/api/sessions/${id}/photo`)).bytes).toEqual(photo);
    // Everything the watcher was sent: every node event once.
    const nodeEvents = desk.messages.filter((m) => m.t === 'sev' && m.session === id && m.event.type === 'node');
    expect(nodeEvents).toHaveLength(edge.header.nodes.length);
  });

  it('a phone photo larger than one frame (12 MB) arrives chunked and is stored byte-identical', async () => {
    const d = await pairDevice(server);
    const photo = new Uint8Array(12 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
    const phone = await Client.connect(server.port, d.token);
    const id = await phone.open(runMeta(edge, { fileName: 'IMG_0001.JPG', bytes: photo.byteLength }));
    await phone.stream(id, sessionItems(edge, photo));
    await server.hub.settled();
    expect(server.store.get(id)?.status).toBe('done');
    expect(Buffer.compare(Buffer.from((await api(server.port, `/api/sessions/${id}/photo`)).bytes), Buffer.from(photo))).toBe(0);
  });
});

describe('faults', () => {
  it('a socket killed mid-run resumes: nothing lost, nothing duplicated', async () => {
    const d = await pairDevice(server);
    let phone = await Client.connect(server.port, d.token);
    const id = await phone.open(runMeta(edge));
    const items = sessionItems(edge);
    const cut = Math.floor(items.length * 0.6);
    await phone.stream(id, items.slice(0, cut));
    // More frames in flight, then the link dies without a close.
    for (const it of items.slice(cut, cut + 20)) phone.send(it.data);
    phone.kill();
    phone = await Client.connect(server.port, d.token);
    phone.send({ t: 'resume', session: id, lastAck: items[cut - 1]!.seq });
    const r = await phone.next('resumed');
    expect(r.ack).toBeGreaterThanOrEqual(items[cut - 1]!.seq);
    // Resend everything after what the phone last saw acked (some are duplicates the server drops).
    await phone.stream(id, items.slice(cut));
    await server.hub.settled();
    expect(server.store.get(id)?.status).toBe('done');
    expectSameTrace(await storedTrace(server, id), edge);
  });

  it('the server killed and restarted mid-run: the phone re-sends after reconnecting', async () => {
    const dir = await tempDataDir();
    let s = await startServer({ dataDir: dir, staticDir: null, port: 0, locate: null, hub: { resumeGraceMs: 5000 } });
    const d = await pairDevice(s);
    let phone = await Client.connect(s.port, d.token);
    const id = await phone.open(runMeta(edge));
    const items = sessionItems(edge);
    const cut = Math.floor(items.length / 3);
    await phone.stream(id, items.slice(0, cut));
    const port = s.port;
    await s.close();
    s = await startServer({ dataDir: dir, staticDir: null, port, locate: null, hub: { resumeGraceMs: 5000 } });
    try {
      expect(s.store.get(id)?.status).toBe('streaming');
      phone = await Client.connect(s.port, d.token);
      phone.send({ t: 'resume', session: id, lastAck: items[cut - 1]!.seq });
      const r = await phone.next('resumed');
      expect(r.ack).toBe(items[cut - 1]!.seq);
      await phone.stream(id, items.filter((it) => it.seq > r.ack));
      await s.hub.settled();
      expect(s.store.get(id)?.status).toBe('done');
      expectSameTrace(await storedTrace(s, id), edge);
    } finally {
      await s.close();
    }
  });

  it('a phone page reloaded mid-run leaves the run stored as incomplete, with what arrived', async () => {
    const d = await pairDevice(server);
    const phone = await Client.connect(server.port, d.token);
    const id = await phone.open(runMeta(edge));
    const items = sessionItems(edge);
    await phone.stream(id, items.slice(0, Math.floor(items.length / 2)));
    phone.close();
    const desk = await Client.connect(server.port, server.credentials.desktopToken);
    const inc = await desk.next('session', (m) => m.info.id === id && m.info.status === 'incomplete', 10_000);
    expect(inc.info.reason).toMatch(/did not resume/);
    const partial = await storedTrace(server, id);
    expect(partial.header.nodes.length).toBeGreaterThan(0);
    expect(partial.header.nodes.length).toBeLessThan(edge.header.nodes.length);
    expect(partial.header.warnings.join(' ')).toMatch(/incomplete/);
  });

  it('a malformed, an oversized and an out-of-order message close that session with a reason; others go on', async () => {
    const d = await pairDevice(server);
    const good = await Client.connect(server.port, d.token);
    const goodId = await good.open(runMeta(edge));
    const goodItems = sessionItems(edge);
    await good.stream(goodId, goodItems.slice(0, 50));

    const cases: [string, (c: Client, id: string) => void, RegExp][] = [
      ['malformed', (c) => c.send('{"t":"ev","seq":1,"event":{"type":"node","node":"nope"}}'), /event\.node/],
      ['not JSON', (c) => c.send('{{{'), /not JSON/],
      ['out-of-order', (c) => c.send({ t: 'ev', seq: 5, event: { type: 'progress', phase: 'x', done: 0, total: 1 } }), /out-of-order/],
      ['bad frame', (c) => c.send(encodeBinaryFrame('blob-f32', 1, { id: 'x' }, new Uint8Array(3))), /whole number/],
      ['oversized', (c) => c.send(new Uint8Array(9 * 1024 * 1024)), /larger than the 8 MiB/],
    ];
    for (const [name, act, reason] of cases) {
      const bad = await Client.connect(server.port, d.token);
      const id = await bad.open(runMeta(edge));
      act(bad, id);
      const closed = await bad.whenClosed();
      expect([CLOSE.protocol, 1009], name).toContain(closed.code);
      // The server's own close handler may run just after the client saw the close.
      await vi.waitFor(() => expect(server.store.get(id)?.status, name).toBe('failed'), { timeout: 5000 });
      const info = server.store.get(id);
      expect(info?.reason ?? '', name).toMatch(reason);
    }
    expect(good.closed).toBeNull();
    expect(server.store.get(goodId)?.status).toBe("streaming");
    await good.stream(goodId, goodItems.slice(50));
    await server.hub.settled();
    expect(server.store.get(goodId)?.status).toBe('done');
    expectSameTrace(await storedTrace(server, goodId), edge);
  });

  it('a session over the store limit is refused; nothing already stored is damaged', async () => {
    const dir = await tempDataDir();
    const s = await startServer({ dataDir: dir, staticDir: null, port: 0, locate: null, limits: { sessionBytes: 2 * 1024 * 1024 } });
    try {
      const d = await pairDevice(s);
      const phone = await Client.connect(s.port, d.token);
      const id = await phone.open(runMeta(edge));
      for (const it of sessionItems(edge)) phone.send(it.data);
      const refused = await phone.next('refused');
      expect(refused.reason).toMatch(/limit/);
      await s.hub.settled();
      expect(s.store.get(id)?.status).toBe('refused');
      const files = await readdir(join(dir, 'sessions', id));
      expect(files).toContain('session.json');
    } finally {
      await s.close();
    }
  });
});
