/**
 * Models uploaded to `exray serve` (src/server/model-store.ts, model-zip.ts; routes in serve.ts): a real
 * TF.js model and a real ONNX model uploaded as zips under their identity hash, listed, served back
 * byte-identical and stored once; wrong hashes, hostile entry names, zip bombs and oversized bodies
 * refused before anything is inflated or written; tokens required on the LAN listener; and a phone
 * session of an uploaded model gets the server's reference. Loopback only (127.0.0.2 stands in for a
 * LAN address).
 */
import { mkdir, mkdtemp, readFile, readdir, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelIdentityHash } from '../src/reference/trace-node.ts';
import { ModelStore } from '../src/server/model-store.ts';
import { indexModels } from '../src/server/models.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import type { ModelListing, ModelUploadResult } from '../src/transport/models-api.ts';
import type { PickedFile } from '../src/viewer/load/dropped-files.ts';
import { modelFromFiles } from '../src/viewer/load/model-files.ts';
import { loadListedModel } from '../src/viewer/load/samples.ts';
import { zipModel } from '../src/viewer/remote/upload-zip.ts';
import { edgeCase } from './diagnose-helpers.ts';
import { MODELS } from './helpers.ts';
import { api, Client, runMeta, sessionItems, tempDataDir } from './server-helpers.ts';

const EMOTION = join(MODELS, 'emotion');
const CLS = join(MODELS, 'ppocr-mobile-v2-cls');
const MiB = 1024 * 1024;

let server: RunningServer;
let dataDir: string;
let emotionSha: string;
let clsSha: string;
let emotionZip: Uint8Array;
let clsZip: Uint8Array;
let device: string;

interface Put {
  status: number;
  json: { error?: string } & Partial<ModelUploadResult>;
}

/** PUT a body to the server (loopback, or 127.0.0.2 as the LAN listener). */
function put(path: string, body: Uint8Array, o: { token?: string; lan?: boolean; port?: number } = {}): Promise<Put> {
  const port = o.port ?? server.port;
  const address = o.lan ? '127.0.0.2' : '127.0.0.1';
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/zip', 'content-length': String(body.byteLength), host: `${address}:${port}` };
    if (o.token) headers['authorization'] = `Bearer ${o.token}`;
    const req = request({ host: address, port, path, method: 'PUT', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as Put['json'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function zipOf(dir: string, names: Record<string, string>): Promise<Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const [entry, file] of Object.entries(names)) files[entry] = new Uint8Array(await readFile(join(dir, file)));
  return zipSync(files);
}

/** Offsets of a zip's (first) local header and central directory entry. */
function headers(zip: Uint8Array): { local: number; central: number } {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let central = -1;
  for (let i = zip.length - 22; i >= 0; i--) {
    if (v.getUint32(i, true) === 0x06054b50) {
      central = v.getUint32(i + 16, true);
      break;
    }
  }
  return { local: 0, central };
}

/** The zip with its first entry's declared inflated size replaced (central directory and local header). */
function declareSize(zip: Uint8Array, size: number): Uint8Array {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  const h = headers(out);
  v.setUint32(h.central + 24, size, true);
  v.setUint32(h.local + 22, size, true);
  return out;
}

function storedDirs(): Promise<string[]> {
  return readdir(join(dataDir, 'models'));
}

async function pairDevice(): Promise<string> {
  const r = await api(server.port, '/api/pair', { method: 'POST', token: server.credentials.pairingToken, body: { name: 'test phone' } });
  expect(r.status).toBe(200);
  return (r.json as { token: string }).token;
}

beforeAll(async () => {
  dataDir = await tempDataDir();
  emotionSha = await modelIdentityHash(EMOTION);
  clsSha = await modelIdentityHash(CLS);
  // The model.json under another name (any *.json is the model), the card with it.
  emotionZip = await zipOf(EMOTION, { 'emotion-model.json': 'model.json', 'group1-shard1of1.bin': 'group1-shard1of1.bin', 'exray.json': 'exray.json' });
  clsZip = await zipOf(CLS, { 'cls.onnx': 'model.onnx', 'exray.json': 'exray.json' });
  // No bundled models here: only uploads can be found.
  server = await startServer({ dataDir, staticDir: null, port: 0, lanHosts: ['127.0.0.2'], locate: () => null, referenceBackend: 'cpu' });
  device = await pairDevice();
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('uploading models', () => {
  it('stores a TF.js model under its sha256, lists it and serves its files byte-identical', async () => {
    expect((await api(server.port, `/api/models/${emotionSha}`, { method: 'HEAD' })).status).toBe(404);
    expect(server.locateModel?.(emotionSha, 'emotion')).toBeNull();
    const r = await put(`/api/models/${emotionSha}?name=ignored-the-card-names-it`, emotionZip);
    expect(r.status, r.json.error).toBe(200);
    expect(r.json.status).toBe('stored');
    expect(r.json.model).toMatchObject({ sha256: emotionSha, name: 'emotion', format: 'tfjs-graph', files: ['model.json', 'group1-shard1of1.bin'], origin: 'uploaded' });
    expect((await api(server.port, `/api/models/${emotionSha}`, { method: 'HEAD' })).status).toBe(200);
    const list = (await api(server.port, '/api/models')).json as ModelListing[];
    expect(list.map((m) => m.sha256)).toContain(emotionSha);
    const row = list.find((m) => m.sha256 === emotionSha)!;
    expect(row.card?.name).toBe('emotion');
    for (const [served, original] of [['model.json', 'model.json'], ['group1-shard1of1.bin', 'group1-shard1of1.bin']] as const) {
      const got = await api(server.port, `/api/models/${emotionSha}/${served}`, { token: device, address: '127.0.0.2', host: `127.0.0.2:${server.port}` });
      expect(got.status).toBe(200);
      expect(Buffer.from(got.bytes).equals(await readFile(join(EMOTION, original))), served).toBe(true);
    }
    expect(row.bytes).toBe((await stat(join(EMOTION, 'model.json'))).size + (await stat(join(EMOTION, 'group1-shard1of1.bin'))).size);
    // The stored directory hashes to its name, with the same code the trace uses.
    expect(server.models.locate(emotionSha)).toBe(join(dataDir, 'models', emotionSha));
    expect(await modelIdentityHash(server.models.locate(emotionSha)!)).toBe(emotionSha);
    expect((await api(server.port, `/api/models/${emotionSha}/..%2Fexray.json`)).status).toBe(404);
    expect((await api(server.port, `/api/models/${emotionSha}/.upload.json`)).status).toBe(404);
  });

  it('stores a model once: a second upload is "already stored" and touches nothing', async () => {
    const dir = join(dataDir, 'models', emotionSha);
    const before = await stat(dir);
    const shardBefore = await stat(join(dir, 'group1-shard1of1.bin'));
    await new Promise((r) => setTimeout(r, 20));
    const r = await put(`/api/models/${emotionSha}`, emotionZip, { token: device, lan: true });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('already stored');
    const after = await stat(dir);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
    expect((await stat(join(dir, 'group1-shard1of1.bin'))).mtimeMs).toBe(shardBefore.mtimeMs);
    expect((await storedDirs()).filter((d) => d === emotionSha)).toHaveLength(1);
  });

  it('stores an ONNX model uploaded by a paired phone as model.onnx', async () => {
    const r = await put(`/api/models/${clsSha}`, clsZip, { token: device, lan: true });
    expect(r.status, r.json.error).toBe(200);
    expect(r.json.model).toMatchObject({ sha256: clsSha, format: 'onnx', files: ['model.onnx'], origin: 'uploaded', name: 'ppocr-mobile-v2-cls' });
    const got = await api(server.port, `/api/models/${clsSha}/model.onnx`);
    expect(Buffer.from(got.bytes).equals(await readFile(join(CLS, 'model.onnx')))).toBe(true);
    expect(server.locateModel?.(clsSha, 'anything')).toBe(join(dataDir, 'models', clsSha));
  });

  it('refuses a model whose hash is not the one in the URL, naming both', async () => {
    const wrong = 'ab'.repeat(32);
    const r = await put(`/api/models/${wrong}`, await zipOf(CLS, { 'model.onnx': 'model.onnx' }));
    expect(r.status).toBe(400);
    expect(r.json.error).toContain(clsSha);
    expect(r.json.error).toContain(wrong);
    expect(await storedDirs()).not.toContain(wrong);
    expect((await put('/api/models/not-a-hash', clsZip)).status).toBe(400);
  });

  it('refuses zips that are not one plain model', async () => {
    const json = await readFile(join(EMOTION, 'model.json'));
    const cases: [Record<string, Uint8Array>, RegExp][] = [
      [{ 'model.json': json }, /group1-shard1of1\.bin.*missing/],
      [{ 'a.onnx': new Uint8Array(8), 'b.onnx': new Uint8Array(8) }, /several \.onnx/],
      [{ 'notes.txt': new Uint8Array(8) }, /holds no model/],
      [{ 'model.onnx': new Uint8Array(8), 'notes.txt': new Uint8Array(8) }, /notes\.txt is not part of the model/],
      [{ 'model.onnx': new Uint8Array(8), 'exray.json': new TextEncoder().encode('{"cardVersion":1}') }, /exray\.json/],
    ];
    for (const [files, problem] of cases) {
      const r = await put(`/api/models/${'cd'.repeat(32)}`, zipSync(files));
      expect(r.status, Object.keys(files).join()).toBe(400);
      expect(r.json.error).toMatch(problem);
    }
    const notZip = await put(`/api/models/${'cd'.repeat(32)}`, new TextEncoder().encode('not a zip at all'));
    expect(notZip.status).toBe(400);
    expect(notZip.json.error).toMatch(/not a readable zip/);
  });
});

describe('hostile uploads', () => {
  const sha = 'ef'.repeat(32);

  it('refuses entry names that are paths, and writes nothing', async () => {
    const cases: [string, RegExp][] = [
      ['../x', /leaves the folder/],
      ['/etc/passwd', /absolute path/],
      ['a/b', /in a folder/],
      ['x\0y.onnx', /NUL/],
      ['C:x.onnx', /absolute path/],
      ['.hidden.onnx', /not a plain file name/],
    ];
    for (const [name, problem] of cases) {
      const r = await put(`/api/models/${sha}`, zipSync({ [name]: new Uint8Array([1, 2, 3]), 'model.onnx': new Uint8Array(4) }));
      expect(r.status, name).toBe(400);
      expect(r.json.error, name).toMatch(problem);
    }
    expect((await storedDirs()).sort()).toEqual([clsSha, emotionSha].sort());
    expect(await readdir(dataDir)).not.toContain('x');
  });

  it('refuses shard paths in the manifest that are not plain names', async () => {
    const json = JSON.parse(await readFile(join(EMOTION, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    json.weightsManifest[0]!.paths = ['../../etc/passwd'];
    const r = await put(`/api/models/${sha}`, zipSync({ 'model.json': new TextEncoder().encode(JSON.stringify(json)), passwd: new Uint8Array(4) }));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/not a plain file name/);
  });

  it('refuses a zip bomb from its declared size, before inflating it', async () => {
    const rss = process.memoryUsage().rss;
    // 8 MiB of zeros deflate to ~8 KiB; the header then says 1 GiB (or 4 GiB - 1), which would be allocated if inflated.
    const zeros = zipSync({ 'model.onnx': new Uint8Array(8 * MiB) });
    for (const size of [1024 * MiB, 0xffffffff]) {
      const r = await put(`/api/models/${sha}`, declareSize(zeros, size));
      expect(r.status).toBe(413);
      expect(r.json.error).toMatch(/would inflate to .* over the limit of 512\.0 MiB per model/);
    }
    // Entries that are each under the limit but not together.
    const two = zipSync({ 'model.onnx': new Uint8Array(16), 'exray.json': new Uint8Array(16) });
    const v = new DataView(two.buffer);
    const central = headers(two).central;
    v.setUint32(central + 24, 400 * MiB, true);
    const next = central + 46 + v.getUint16(central + 28, true) + v.getUint16(central + 30, true) + v.getUint16(central + 32, true);
    v.setUint32(next + 24, 400 * MiB, true);
    const r = await put(`/api/models/${sha}`, two);
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/more than 512\.0 MiB/);
    // A header that says less than the data holds: inflated into exactly that many bytes, then the hash says no.
    const small = await put(`/api/models/${sha}`, declareSize(zeros, 1000));
    expect(small.status).toBe(400);
    expect(small.json.error).toMatch(/sha256/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * MiB);
    expect((await storedDirs()).sort()).toEqual([clsSha, emotionSha].sort());
  });
});

describe('limits and tokens', () => {
  it('refuses bodies over the limit from Content-Length alone, and a full store', async () => {
    const small = await startServer({ dataDir: await tempDataDir(), staticDir: null, port: 0, modelLimits: { modelBytes: 2 * MiB, totalBytes: 3 * MiB } });
    try {
      // Headers only: the answer comes without the body being sent.
      const answer = await new Promise<string>((resolve, reject) => {
        const s = connect(small.port, '127.0.0.1', () => s.write(`PUT /api/models/${clsSha} HTTP/1.1\r\nHost: 127.0.0.1:${small.port}\r\nContent-Length: ${600 * MiB}\r\n\r\n`));
        let text = '';
        s.on('data', (c: Buffer) => (text += c.toString('utf8')));
        s.on('end', () => resolve(text));
        s.on('error', reject);
        setTimeout(() => reject(new Error(`no answer: ${text}`)), 5000);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 413/);
      expect(answer).toMatch(/over the limit of 6\.0 MiB per model zip/);
      // An honest zip bomb: 8 MiB of zeros declared as such, over this server's 2 MiB per model.
      const bomb = await put(`/api/models/${clsSha}`, zipSync({ 'model.onnx': new Uint8Array(8 * MiB) }), { port: small.port });
      expect(bomb.status).toBe(413);
      // The first model fits; the second would pass the 3 MiB total.
      expect((await put(`/api/models/${emotionSha}`, emotionZip, { port: small.port })).status).toBe(200);
      const full = await put(`/api/models/${clsSha}`, clsZip, { port: small.port }); // 0.8 + 0.6 MiB < 3 MiB: fits
      expect(full.status).toBe(200);
      const more = await put(`/api/models/${'12'.repeat(32)}`, zipSync({ 'model.onnx': new Uint8Array(Math.round(1.9 * MiB)) }), { port: small.port });
      expect(more.status).toBe(507);
      expect(more.json.error).toMatch(/model store is full/);
    } finally {
      await small.close();
    }
  });

  it('the LAN listener needs a token for every model route; only the desktop deletes', async () => {
    const lan = { address: '127.0.0.2', host: `127.0.0.2:${server.port}` };
    expect((await api(server.port, '/api/models', lan)).status).toBe(401);
    expect((await api(server.port, `/api/models/${emotionSha}`, { ...lan, method: 'HEAD' })).status).toBe(401);
    expect((await api(server.port, `/api/models/${emotionSha}/model.json`, lan)).status).toBe(401);
    expect((await put(`/api/models/${emotionSha}`, emotionZip, { lan: true })).status).toBe(401);
    expect((await api(server.port, '/api/models', { ...lan, token: 'ab'.repeat(16) })).status).toBe(401);
    expect((await api(server.port, '/api/models', { ...lan, token: device })).status).toBe(200);
    expect((await api(server.port, `/api/models/${clsSha}`, { ...lan, token: device, method: 'DELETE' })).status).toBe(403);
  });
});

describe('the reference of an uploaded model', () => {
  it('a phone session of the uploaded model is compared with the server reference', async () => {
    const { edge } = await edgeCase({ model: 'emotion', photo: 'chelsea.png' });
    expect(edge.header.model.sha256).toBe(emotionSha);
    const phone = await Client.connect(server.port, device, { host: '127.0.0.2' });
    try {
      const id = await phone.open(runMeta(edge));
      await phone.stream(id, sessionItems(edge));
      const deadline = Date.now() + 90_000;
      while (!server.store.get(id)?.verdict && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const info = server.store.get(id)!;
      expect(info.referenceNote).toBeNull();
      expect(info.reference).toBe('cpu');
      expect(info.verdict).not.toBeNull();
    } finally {
      phone.close();
    }
  }, 120_000);

  it('the desktop removes an uploaded model', async () => {
    expect((await api(server.port, `/api/models/${clsSha}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(server.port, `/api/models/${clsSha}`, { method: 'HEAD' })).status).toBe(404);
    expect(await storedDirs()).toEqual([emotionSha]);
    expect(server.models.locate(clsSha)).toBeNull();
  });
});

describe('bundled samples', () => {
  it('are listed and served by sha256; uploading one is "already stored"; they cannot be deleted', async () => {
    const root = await mkdtemp(join(tmpdir(), 'exray-samples-'));
    await symlink(EMOTION, join(root, 'emotion'));
    const samples = await indexModels([root]);
    const withSamples = await startServer({ dataDir: await tempDataDir(), staticDir: null, port: 0, samples, locate: samples.locate });
    try {
      const list = (await api(withSamples.port, '/api/models')).json as ModelListing[];
      expect(list).toEqual([expect.objectContaining({ sha256: emotionSha, name: 'emotion', origin: 'sample', files: ['model.json', 'group1-shard1of1.bin'] })]);
      const shard = await api(withSamples.port, `/api/models/${emotionSha}/group1-shard1of1.bin`);
      expect(Buffer.from(shard.bytes).equals(await readFile(join(EMOTION, 'group1-shard1of1.bin')))).toBe(true);
      const r = await put(`/api/models/${emotionSha}`, emotionZip, { port: withSamples.port });
      expect(r.status).toBe(200);
      expect(r.json.status).toBe('already stored');
      expect(withSamples.models.list()).toHaveLength(0);
      expect((await api(withSamples.port, `/api/models/${emotionSha}`, { method: 'DELETE' })).status).toBe(409);
      expect(withSamples.locateModel?.(emotionSha, 'emotion')).toBe(join(root, 'emotion'));
    } finally {
      await withSamples.close();
    }
  });
});

describe("the page's side: its upload zip and its loader", () => {
  async function dropped(dir: string, folder: string): Promise<PickedFile[]> {
    const out: PickedFile[] = [];
    for (const name of await readdir(dir)) out.push({ file: new File([await readFile(join(dir, name))], name), path: `${folder}/${name}` });
    return out;
  }

  it('a dropped model zipped by the page is stored, then loads from the server with the same sha256', async () => {
    const freshDir = await tempDataDir();
    const fresh = await startServer({ dataDir: freshDir, staticDir: null, port: 0 });
    try {
      for (const [dir, sha] of [[EMOTION, emotionSha], [CLS, clsSha]] as const) {
        const model = await modelFromFiles(await dropped(dir, 'my-model'));
        expect(model.sha256).toBe(sha);
        const r = await put(`/api/models/${sha}?name=${encodeURIComponent(model.name)}`, zipModel(model), { port: fresh.port });
        expect(r.status, r.json.error).toBe(200);
        expect(r.json.status).toBe('stored');
        const listed = r.json.model!;
        const token = fresh.credentials.desktopToken;
        const loaded = await loadListedModel({ ...listed, origin: 'server', base: `/api/models/${sha}/` }, async (url) => {
          const res = await fetch(`http://127.0.0.1:${fresh.port}${url}`, { headers: { authorization: `Bearer ${token}` } });
          if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
          return res.arrayBuffer();
        });
        expect(loaded.sha256).toBe(sha);
        expect(loaded.origin).toBe('server');
        expect(loaded.card?.name).toBe(model.card?.name);
      }
    } finally {
      await fresh.close();
    }
    // A restart finds them again (and drops what an interrupted upload left).
    await mkdir(join(freshDir, 'models', '.tmp-0123456789abcdef'));
    const reopened = await ModelStore.open(freshDir);
    expect(reopened.list().map((m) => m.sha256).sort()).toEqual([clsSha, emotionSha].sort());
    expect(await readdir(join(freshDir, 'models'))).not.toContain('.tmp-0123456789abcdef');
  });

  it('the page refuses to zip a manifest whose shards are not plain names', async () => {
    const model = await modelFromFiles(await dropped(EMOTION, 'emotion'));
    const json = JSON.parse(new TextDecoder().decode(model.modelJsonBytes)) as { weightsManifest: { paths: string[] }[] };
    json.weightsManifest[0]!.paths = ['weights/group1-shard1of1.bin'];
    expect(() => zipModel({ ...model, modelJson: json as unknown as Record<string, unknown> })).toThrow(/plain names/);
  });
});
