/** `exray sessions ls|show|rm|export` through main(), on a real data directory. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../src/server/store.ts';
import { traceToEvents } from '../src/trace/events.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { makeTrace } from '../src/trace/test-fixtures.ts';
import type { SessionInfo } from '../src/transport/wire.ts';
import { runCli } from './helpers.ts';
import { expectSameTrace, send, sessionInfo, tmpDir, wireItems } from './server-store-helpers.ts';

/** main() in this process with stdout and stderr captured (test/helpers.ts). */
function exray(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli(args);
}

const data = join(tmpDir('exray-sessions-cli-'), 'data');
const trace = makeTrace();
let done: SessionInfo;
let partial: SessionInfo;

beforeAll(async () => {
  const store = await SessionStore.open(data);
  done = sessionInfo({ createdAt: '2025-03-01T10:00:00.000Z', device: 'Pixel 7' });
  const w = await store.create(done);
  await send(w, wireItems(traceToEvents(trace)));
  await w.putPhoto(new Uint8Array([137, 80, 78, 71]), 'cat.png', 'image/png');
  await w.finalize();
  await store.putJson(done.id, 'compare', { verdict: 'diverged', summary: '3 of 6 node outputs diverge', firstDivergent: { name: 'model/dense/MatMul', op: 'MatMul' }, counts: { total: 6, diverged: 3 } });
  await store.update(done.id, { verdict: 'diverged', firstDivergent: 'model/dense/MatMul' });
  partial = sessionInfo({ createdAt: '2025-03-02T10:00:00.000Z', device: 'iPhone 15' });
  const p = await store.create(partial);
  await send(p, wireItems(traceToEvents(trace).slice(0, 8)));
  await p.markIncomplete('the device disconnected');
});

describe('exray sessions', () => {
  it('ls --json lists every session newest first, with its size on disk', async () => {
    const r = await exray('sessions', 'ls', '--data', data, '--json');
    expect(r.code, r.err).toBe(0);
    const list = JSON.parse(r.out) as (SessionInfo & { diskBytes: number })[];
    expect(list.map((s) => [s.id, s.status])).toEqual([
      [partial.id, 'incomplete'],
      [done.id, 'done'],
    ]);
    expect(list[1]).toMatchObject({ nodes: 6, hasPhoto: true, verdict: 'diverged' });
    expect(list[1]!.diskBytes).toBeGreaterThan(list[1]!.blobBytes);
  });

  it('ls (the default action) prints a table', async () => {
    const r = await exray('sessions', '--data', data);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+device\s+model\s+backend\s+status\s+nodes\s+size\s+created$/);
    expect(lines[1]).toMatch(new RegExp(`^${partial.id}\\s+iPhone 15\\s+mobilenet-mini\\s+webgl\\s+incomplete\\s+\\d+/7\\s`));
    expect(lines[2]).toMatch(new RegExp(`^${done.id}\\s+Pixel 7 .*done\\s+6/7\\s+[\\d.]+ KiB\\s+2025-03-01`));
  });

  it('show prints the session and the comparison summary', async () => {
    const j = await exray('sessions', 'show', done.id, '--data', data, '--json');
    expect(j.code, j.err).toBe(0);
    const shown = JSON.parse(j.out) as { session: SessionInfo; comparison: { verdict: string; firstDivergent: string } };
    expect(shown.session).toMatchObject({ id: done.id, status: 'done', hasPhoto: true });
    expect(shown.comparison).toMatchObject({ verdict: 'diverged', summary: '3 of 6 node outputs diverge', firstDivergent: 'model/dense/MatMul (MatMul)' });
    const t = await exray('sessions', 'show', partial.id, '--data', data);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toContain(`session  ${partial.id}  incomplete (the device disconnected)`);
    expect(t.out).toContain('compare  none stored');
  });

  it('export writes the trace (partial for an unfinished run), photo and JSON', async () => {
    const out = join(tmpDir(), 'export');
    const r = await exray('sessions', 'export', done.id, '--data', data, '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    const files = (JSON.parse(r.out) as { files: string[] }).files.map((f) => f.slice(out.length + 1)).sort();
    expect(files).toEqual(['compare.json', 'edge.exray', 'photo.png', 'session.json']);
    expectSameTrace(decodeTrace(new Uint8Array(readFileSync(join(out, 'edge.exray'))), 'edge.exray'), trace);
    const out2 = join(tmpDir(), 'export');
    expect((await exray('sessions', 'export', partial.id, '--data', data, '--out', out2)).code).toBe(0);
    const p = decodeTrace(new Uint8Array(readFileSync(join(out2, 'edge.exray'))), 'edge.exray');
    expect(p.header.warnings.join('\n')).toMatch(/incomplete: the run did not finish/);
  });

  it('bad ids, unknown sessions, a missing data dir: exit 2 and one line naming them', async () => {
    for (const [args, pattern] of [
      [['show', 's-XYZ'], /^exray: "s-XYZ": not a session id/],
      [['rm', '../sessions'], /^exray: "\.\.\/sessions": not a session id/],
      [['export', '/etc', '--out', tmpDir()], /^exray: "\/etc": not a session id/],
      [['show', 's-0123456789abcdef'], /^exray: s-0123456789abcdef: no such session in /],
      [['export', done.id], /--out DIR is required/],
      [['show'], /^exray: sessions show: a session id is required/],
    ] as [string[], RegExp][]) {
      const r = await exray('sessions', ...args, '--data', data);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(pattern);
      expect(r.err.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const missing = join(tmpDir(), 'nope');
    const ls = await exray('sessions', 'ls', '--data', missing, '--json');
    expect([ls.code, JSON.parse(ls.out)]).toEqual([0, []]);
    expect(existsSync(missing)).toBe(false);
    const show = await exray('sessions', 'show', done.id, '--data', missing);
    expect(show.code).toBe(2);
    expect(show.err).toMatch(new RegExp(`^exray: ${missing}: no such data directory`));
    expect((await exray('sessions', 'frobnicate', '--data', data)).code).toBe(2);
  });

  it('rm deletes the session', async () => {
    const r = await exray('sessions', 'rm', partial.id, '--data', data, '--json');
    expect([r.code, JSON.parse(r.out)]).toEqual([0, { removed: partial.id }]);
    expect(existsSync(join(data, 'sessions', partial.id))).toBe(false);
    const ls = JSON.parse((await exray('sessions', 'ls', '--data', data, '--json')).out) as SessionInfo[];
    expect(ls.map((s) => s.id)).toEqual([done.id]);
  });
});
