/**
 * Failure paths of the store's writes, made to fail for real: a rename over a directory, and a child
 * process whose file-size limit (RLIMIT_FSIZE, `ulimit -f`) cuts a write short with EFBIG (Node
 * ignores SIGXFSZ, so the write returns the error). Running as root, a read-only directory would not
 * stop a write, which is why the size limit is used.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { removeStaleTemps, writeFileAtomic } from '../src/server/atomic.ts';
import { SessionStore } from '../src/server/store.ts';
import { tmpDir } from './server-store-helpers.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const src = (p: string): string => JSON.stringify(join(ROOT, 'src', p));

/** Runs a TypeScript module (tsx) under `ulimit -f <kib>`; returns its stdout. */
async function underFileSizeLimit(dir: string, kib: number, code: string, args: string[] = []): Promise<string> {
  const script = join(dir, 'child.mts');
  writeFileSync(script, code);
  const { stdout } = await run('bash', ['-c', `ulimit -f ${kib}; exec "${process.execPath}" --import tsx "$@"`, 'bash', script, ...args], { cwd: ROOT, timeout: 60_000 });
  return stdout.trim();
}

describe('writeFileAtomic', () => {
  it('creates and replaces a file, leaving no temp file', async () => {
    const dir = tmpDir();
    const p = join(dir, 'session.json');
    await writeFileAtomic(p, 'one');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(p)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['session.json']);
  });

  it('a failed rename (a directory in the way) rethrows and removes the temp file', async () => {
    const dir = tmpDir();
    mkdirSync(join(dir, 'edge.exray'));
    writeFileSync(join(dir, 'edge.exray', 'keep'), 'x');
    await expect(writeFileAtomic(join(dir, 'edge.exray'), 'new')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect(readdirSync(dir)).toEqual(['edge.exray']);
    expect(readFileSync(join(dir, 'edge.exray', 'keep'), 'utf8')).toBe('x');
  });

  it('a write cut short by EFBIG leaves the previous file byte-identical and no temp file', async () => {
    const dir = tmpDir();
    const target = join(dir, 'edge.exray');
    const previous = Buffer.from('the previous trace, which must survive');
    writeFileSync(target, previous);
    const code = `
      import { writeFileAtomic } from ${src('server/atomic.ts')};
      const [target, size] = process.argv.slice(2);
      try {
        await writeFileAtomic(target, new Uint8Array(Number(size)).fill(7));
        console.log('ok');
      } catch (e) {
        console.log(e.code);
      }`;
    expect(await underFileSizeLimit(dir, 64, code, [target, String(1024 * 1024)])).toBe('EFBIG');
    expect(readFileSync(target).equals(previous)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['child.mts', 'edge.exray']);
    // Control: under the limit the same child succeeds.
    expect(await underFileSizeLimit(dir, 64, code, [target, '1000'])).toBe('ok');
    expect(statSync(target).size).toBe(1000);
  });

  it('removeStaleTemps removes only old temp files', async () => {
    const dir = tmpDir();
    writeFileSync(join(dir, '.session.json.0123456789abcdef.tmp'), 'x');
    writeFileSync(join(dir, 'session.json'), 'y');
    expect(await removeStaleTemps(dir)).toEqual([]); // young: may be a write in progress
    expect(await removeStaleTemps(dir, 0)).toEqual(['.session.json.0123456789abcdef.tmp']);
    expect(readdirSync(dir)).toEqual(['session.json']);
  });
});

describe('journal append cut short by EFBIG', () => {
  it('cuts the half record back off, so the journal stays whole and later appends follow it', async () => {
    const dir = tmpDir();
    const data = join(dir, 'data');
    const code = `
      import { SessionStore, newSessionId } from ${src('server/store.ts')};
      import { traceToEvents } from ${src('trace/events.ts')};
      import { makeTrace } from ${src('trace/test-fixtures.ts')};
      import { blobFrames } from ${src('transport/wire.ts')};
      const store = await SessionStore.open(process.argv[2]);
      const now = new Date().toISOString();
      const w = await store.create({ id: newSessionId(), deviceId: 'd', device: 'd', userAgent: 'u', gpu: null,
        model: { name: 'm', sha256: '', format: 'onnx' }, label: 'l', backend: 'wasm', capture: 'tensors', createdAt: now, updatedAt: now,
        status: 'streaming', reason: null, nodes: 0, declaredNodes: 0, blobBytes: 0, hasPhoto: false, reference: null,
        referenceNote: null, verdict: null, firstDivergent: null, cause: null });
      await w.appendEvent(1, traceToEvents(makeTrace())[0]);
      const [frame] = blobFrames('huge', new Float32Array(100_000), () => 2);
      let code = 'ok';
      try { await w.appendFrame(2, frame); } catch (e) { code = e.code; }
      await w.appendEvent(2, { type: 'progress', phase: 'after', done: 1, total: 1 });
      await w.close();
      console.log(JSON.stringify({ id: w.id, code, lastSeq: w.lastSeq }));`;
    const out = JSON.parse(await underFileSizeLimit(dir, 64, code, [data])) as { id: string; code: string; lastSeq: number };
    expect(out.code).toBe('EFBIG');
    expect(out.lastSeq).toBe(2);
    const store = await SessionStore.open(data, {}, { warn: () => undefined });
    expect(store.warnings).toEqual([]);
    const events = await store.events(out.id);
    expect(events.map((e) => e.type)).toEqual(['run-start', 'progress']);
    const writer = await store.writer(out.id);
    expect(writer.lastSeq).toBe(2);
    await writer.close();
  });
});
