/**
 * `exray farm` without a farm run: config validation (file + JSON path, exit code 2), flags over the
 * config, the JUnit XML shape (parsed back), the pool (bounded, timeouts, retries, a failing device
 * fails only its cells), a browser that goes away (a real Chromium closed under a call), the accuracy
 * figures and the progress lines.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.ts';
import { rawConfig, type FarmCommandOptions } from '../src/cli/commands/farm.ts';
import { ExrayInputError } from '../src/errors.ts';
import { cellAccuracy, breaksTolerance, quantile } from '../src/farm/accuracy.ts';
import { loadFarmConfig, parseFarmConfig, sanitizeName, deviceName } from '../src/farm/config.ts';
import { connectFailure, LocalChromium, lostBrowser, makeDevice } from '../src/farm/devices.ts';
import { chromium } from 'playwright-core';
import { chromiumLaunchOptions } from '../src/cli/chromium.ts';
import { FarmProgress } from '../src/farm/progress.ts';
import { FinalError, runPool, type PoolTask } from '../src/farm/pool.ts';
import { indexHtml, inlineScriptText, junitXml, xmlEscape, type CellSummary, type FarmSummary } from '../src/farm/report.ts';
import { reportJson } from '../src/farm/report-data.ts';
import { staticSkip, type FarmModel } from '../src/farm/run.ts';
import { expandInputs } from '../src/farm/inputs.ts';
import type { Comparison } from '../src/compare/index.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'exray-farm-unit-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function thrown(f: () => unknown): ExrayInputError {
  try {
    f();
  } catch (e) {
    if (e instanceof ExrayInputError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('config', () => {
  const good = { models: ['models/emotion'], inputs: ['public/samples/chelsea.png'], devices: [{ emulate: 'Pixel 7' }] };

  it('fills the defaults', () => {
    const c = parseFarmConfig(good, 'f.json');
    expect(c).toMatchObject({ backends: ['wasm'], reference: 'cpu', jobs: 1, retries: 1, out: 'exray-farm', options: { capture: 'tensors', runs: 1, warmup: 0 }, tolerance: { top1: 1 } });
  });

  it('names the file and the JSON path of every problem', () => {
    const e = thrown(() => parseFarmConfig({ ...good, devices: [{ emulate: 'Pixel 7' }, { connect: 'http://x' }], backends: ['webgl', 'metal'], jobs: 0 }, 'exray.farm.json'));
    expect(e.file).toBe('exray.farm.json');
    expect(e.message).toMatch(/^exray\.farm\.json: /);
    expect(e.message).toContain('devices[1]');
    expect(e.message).toContain('backends[1]');
    expect(e.message).toContain('jobs');
  });

  it('refuses unknown keys, missing inputs and duplicate device names', () => {
    expect(thrown(() => parseFarmConfig({ ...good, option: {} }, 'a.json')).message).toMatch(/a\.json: .*option/);
    expect(thrown(() => parseFarmConfig({ models: ['m'], devices: [{ emulate: 'Pixel 7' }] }, 'b.json')).message).toMatch(/b\.json: models\[0\]: no inputs/);
    expect(thrown(() => parseFarmConfig({ ...good, devices: [{ emulate: 'Pixel 7' }, { emulate: 'Pixel 7' }] }, 'c.json')).message).toMatch(/devices\[1\]: two devices are named "Pixel 7"/);
    expect(thrown(() => parseFarmConfig({ ...good, devices: [{ android: 'a b' }] }, 'd.json')).message).toMatch(/devices\[0\]/);
  });

  it('a file that is missing or not JSON is named', async () => {
    await expect(loadFarmConfig(join(tmp, 'nope.json'))).rejects.toThrow(/nope\.json: file not found/);
    const bad = join(tmp, 'bad.json');
    await writeFile(bad, '{ "models": [');
    await expect(loadFarmConfig(bad)).rejects.toThrow(/bad\.json: not JSON/);
  });

  it('exray farm exits with code 2 on a bad config, naming the file and the path', async () => {
    const file = join(tmp, 'exray.farm.json');
    await writeFile(file, JSON.stringify({ ...good, tolerance: { nrmse: -1 } }));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'exray', 'farm', '--config', file])).toBe(2);
      const text = err.mock.calls.map((c) => String(c[0])).join('');
      expect(text).toContain(file);
      expect(text).toContain('tolerance.nrmse');
    } finally {
      err.mockRestore();
    }
    // An emulation Playwright does not know is a config error too (checked before anything runs).
    await writeFile(file, JSON.stringify({ ...good, devices: [{ emulate: 'Nokia 3310' }] }));
    const err2 = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'exray', 'farm', '--config', file, '--out', join(tmp, 'out')])).toBe(2);
      expect(err2.mock.calls.map((c) => String(c[0])).join('')).toMatch(/devices\[0\]\.emulate: unknown Playwright device "Nokia 3310"/);
    } finally {
      err2.mockRestore();
    }
  });

  it('flags lay over the file, or make the config alone (named `command line`)', async () => {
    const base: FarmCommandOptions = { diagnose: true, build: true };
    const alone = await rawConfig({ ...base, config: undefined, model: ['models/emotion'], inputs: ['x.png'], emulate: ['Pixel 7'], connect: ['ws://127.0.0.1:9/'], backends: ['wasm'], f16: true, nrmse: 0.01, jobs: 2 });
    expect(alone.file).toBe(existsDefault() ? 'exray.farm.json' : 'command line');
    expect(alone.raw).toMatchObject({ models: ['models/emotion'], backends: ['wasm', 'webgl-f16'], devices: [{ emulate: 'Pixel 7' }, { connect: 'ws://127.0.0.1:9/' }], tolerance: { nrmse: 0.01 }, jobs: 2 });
    const file = join(tmp, 'over.json');
    await writeFile(file, JSON.stringify({ ...good, jobs: 3, tolerance: { top1: 0.5 } }));
    const over = await rawConfig({ ...base, config: file, nrmse: 0.02, diagnose: false });
    expect(over.file).toBe(file);
    expect(over.raw).toMatchObject({ jobs: 3, tolerance: { top1: 0.5, nrmse: 0.02 }, diagnose: false });
  });

  it('names devices and sanitizes file names', () => {
    expect(deviceName({ connect: 'ws://127.0.0.1:3000/abc?token=secret' })).toBe('connect ws://127.0.0.1:3000/abc');
    expect(deviceName({ name: 'lab', cdp: 'http://127.0.0.1:9222' })).toBe('lab');
    expect(sanitizeName('../../etc/passwd')).toBe('etc_passwd');
    expect(sanitizeName('Pixel 7')).toBe('Pixel_7');
    expect(sanitizeName('...')).toBe('x');
  });

  it('says HTTP 428 is a Playwright version mismatch', () => {
    expect(connectFailure('ws://127.0.0.1:1/', new Error('browserType.connect: WebSocket error: 428 Precondition Required'))).toMatch(/version mismatch \(HTTP 428\)/);
    expect(connectFailure('ws://127.0.0.1:1/', new Error('connect ECONNREFUSED'))).toMatch(/^unreachable: ws:\/\/127\.0\.0\.1:1\/: connect ECONNREFUSED/);
    expect(connectFailure('ws://h:1/', new Error('<ws connecting> ws://h:1/?t=secret failed'), 'ws://h:1/?t=secret')).not.toContain('secret');
  });
});

/** rawConfig reads ./exray.farm.json when there is one and no --config. */
function existsDefault(): boolean {
  return existsSync('exray.farm.json');
}

describe('devices that are not there fail their cells with the reason, never crash', () => {
  it('android without adb or without the phone, cdp and connect to a closed port', async () => {
    const local = new LocalChromium();
    const base = 'http://127.0.0.1:9/';
    // This machine has no phone (and usually no adb): either way the reason is said, and remembered.
    const android = await makeDevice({ android: 'emulator-5554' }, local, base, 9);
    await expect(android.openPage()).rejects.toThrow(/^unreachable: (adb is not on PATH|adb reverse on emulator-5554 failed|no Android device emulator-5554)/);
    expect(android.lost()).toMatch(/^unreachable: /);
    await expect(android.openPage()).rejects.toBeInstanceOf(FinalError);
    expect(android.baseUrl()).toBe('http://localhost:9/');
    const cdp = await makeDevice({ cdp: 'http://127.0.0.1:1' }, local, base, 9);
    await expect(cdp.openPage()).rejects.toThrow(/^unreachable: http:\/\/127\.0\.0\.1:1: /);
    const ws = await makeDevice({ name: 'lab', connect: 'ws://127.0.0.1:1/?token=secret' }, local, base, 9);
    const e = await ws.openPage().then(() => new Error('connected to a closed port?'), (x: unknown) => x as Error);
    expect(e).toBeInstanceOf(FinalError);
    expect(e.message).toMatch(/^unreachable: ws:\/\/127\.0\.0\.1:1\/: /);
    expect(e.message).not.toContain('secret');
    for (const d of [android, cdp, ws]) await d.close();
    await local.close();
  });
});

describe('a browser that goes away', () => {
  it('a call that failed while it closes means the device is lost; a failure of a browser that stays is its own', { timeout: 60_000 }, async () => {
    const server = await chromium.launchServer(chromiumLaunchOptions());
    try {
      const b = await chromium.connect(server.wsEndpoint());
      // Still there after the grace: the error is the call's own.
      expect(await lostBrowser(b, new Error('Protocol error (Target.createTarget): Failed to open a new tab'), 200)).toBe(false);
      expect(b.isConnected()).toBe(true);
      // Closing under the call (what the farm e2e test does to its flaky device): the browser still
      // looks connected when the call fails, and says it is gone within the grace.
      const closing = server.close();
      expect(await lostBrowser(b, new Error('Protocol error (Target.createTarget): Failed to open a new tab'))).toBe(true);
      await closing;
      // Gone: said at once, whatever the message (a wait for the grace would outlast the test).
      expect(await lostBrowser(b, new Error('anything'), 600_000)).toBe(true);
    } finally {
      await server.close().catch(() => {});
    }
  });
});

describe('inputs and skips', () => {
  it('a folder gives its photos and tensor files, sorted, and a missing path is named', async () => {
    const got = await expandInputs(['public/samples'], 'f.json');
    expect(got.length).toBeGreaterThan(5);
    expect(got.every((i) => i.kind === 'photo')).toBe(true);
    expect(got.map((i) => i.name)).toEqual([...got.map((i) => i.name)].sort());
    await expect(expandInputs(['public/nope'], 'f.json')).rejects.toThrow(/f\.json: input public\/nope does not exist/);
    await expect(expandInputs(['README.md'], 'f.json')).rejects.toThrow(/README\.md: not a photo, a tensor file/);
  });

  it('input sets (sets.json) feed multi-input models; their file names never leave the folder', async () => {
    const sets = await expandInputs(['public/samples/tensors/silero-vad-v5'], 'f.json');
    expect(sets.map((i) => [i.name, i.kind])).toEqual([['speech frame', 'set'], ['silence', 'set']]);
    expect(sets[0]!.tensors).toEqual(['input', 'state', 'sr'].map((n) => `${n}=${join('public/samples/tensors/silero-vad-v5', `${{ input: 'speech_input', state: 'speech_state', sr: 'sr' }[n]}.npy`)}`));
    const dir = join(tmp, 'sets');
    await mkdir(dir, { recursive: true });
    const bad = async (json: unknown): Promise<unknown> => {
      await writeFile(join(dir, 'sets.json'), JSON.stringify(json));
      return expandInputs([dir], 'f.json');
    };
    await expect(bad({ sets: [{ name: 'x', files: { input: '../../etc/passwd' } }] })).rejects.toThrow(/sets\.json: sets\.0\.files\.input: expected a file name in the same folder/);
    await expect(bad({ sets: [{ name: 'x', files: { input: 'absent.npy' } }] })).rejects.toThrow(/sets\[0\]\.files\.input: absent\.npy is not a file beside sets\.json/);
    await expect(bad({ sets: [] })).rejects.toThrow(/sets\.json: sets: /);
    await writeFile(join(dir, 'sets.json'), '{');
    await expect(expandInputs([join(dir, 'sets.json')], 'f.json')).rejects.toThrow(/sets\.json: not JSON/);
  });

  it('skips what a runtime cannot run, before opening a page', () => {
    const onnx = { onnx: true } as FarmModel;
    const tfjs = { onnx: false } as FarmModel;
    expect(staticSkip(onnx, 'webgl-f16')).toMatch(/TF\.js WebGL option/);
    expect(staticSkip(onnx, 'webgl')).toMatch(/WebGL provider/);
    expect(staticSkip(onnx, 'cpu')).toMatch(/no cpu execution provider/);
    expect(staticSkip(onnx, 'wasm')).toBeNull();
    expect(staticSkip(tfjs, 'webgl-f16')).toBeNull();
  });
});

describe('pool', () => {
  const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((done, fail) => {
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      fail(new Error('aborted'));
    });
  });

  it('runs at most `jobs` at once and keeps the order of results', async () => {
    let now = 0;
    let peak = 0;
    const tasks: PoolTask<number>[] = Array.from({ length: 7 }, (_, k) => ({
      id: `t${k}`,
      run: async () => {
        peak = Math.max(peak, ++now);
        await sleep(10 + (k % 3) * 5);
        now--;
        return k;
      },
    }));
    const out = await runPool(tasks, { jobs: 3, timeoutMs: 1000, retries: 0 });
    expect(peak).toBe(3);
    expect(out.map((o) => (o.ok ? o.value : -1))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('times an attempt out, aborts it, and retries', async () => {
    const aborted: number[] = [];
    const task: PoolTask<string> = {
      id: 'slow-then-fast',
      run: async (signal, attempt) => {
        signal.addEventListener('abort', () => aborted.push(attempt));
        if (attempt === 1) await sleep(5_000, signal);
        return `attempt ${attempt}`;
      },
    };
    const [o] = await runPool([task], { jobs: 1, timeoutMs: 50, retries: 1 });
    expect(o).toMatchObject({ ok: true, value: 'attempt 2', attempts: 2 });
    expect(aborted).toEqual([1]);
    const [never] = await runPool([{ id: 'hangs', run: (signal) => sleep(5_000, signal).then(() => 'x') }], { jobs: 1, timeoutMs: 30, retries: 2 });
    expect(never).toMatchObject({ ok: false, attempts: 3, timedOut: true });
    expect(!never!.ok && never!.error).toMatch(/timed out/);
  });

  it('a failing device fails only its cells, and a FinalError is not retried', async () => {
    const calls = new Map<string, number>();
    const tasks: PoolTask<string>[] = [];
    for (const device of ['a', 'gone', 'b']) for (const cell of [1, 2, 3]) {
      const id = `${device}/${cell}`;
      tasks.push({
        id,
        run: async () => {
          calls.set(id, (calls.get(id) ?? 0) + 1);
          await sleep(1);
          if (device === 'gone') throw new FinalError('device lost: the browser disconnected');
          if (id === 'b/2' && calls.get(id) === 1) throw new Error('flaky');
          return id;
        },
      });
    }
    const ended: string[] = [];
    const out = await runPool(tasks, { jobs: 2, timeoutMs: 1000, retries: 2, onEnd: (id) => ended.push(id) });
    expect(out.filter((o) => !o.ok).length).toBe(3);
    out.forEach((o, k) => expect(o.ok, tasks[k]!.id).toBe(!tasks[k]!.id.startsWith('gone')));
    expect(calls.get('gone/1')).toBe(1);
    expect(calls.get('b/2')).toBe(2);
    expect(ended.sort()).toEqual(tasks.map((t) => t.id).sort());
  });
});

function comparison(o: { outVerdict: 'ok' | 'diverged'; top1: boolean | null; outNrmse: number; nodes: [string, number][]; first?: string }): Comparison {
  return {
    verdict: o.outVerdict === 'ok' ? 'ok' : 'diverged',
    outputs: { verdict: o.outVerdict, top1Equal: o.top1, tensors: [{ metrics: { nrmse: o.outNrmse } }] },
    firstDivergent: o.first ? { name: o.first } : null,
    nodes: o.nodes.map(([name, nrmse]) => ({ key: `${name}:0`, name, op: 'Conv2D', metrics: { nrmse } })),
  } as unknown as Comparison;
}

describe('accuracy', () => {
  it('top-1 agreement, output error, per-node median and p95 over inputs', () => {
    const a = cellAccuracy([
      comparison({ outVerdict: 'ok', top1: true, outNrmse: 0.001, nodes: [['conv', 0.001], ['fc', 0.01]] }),
      comparison({ outVerdict: 'diverged', top1: false, outNrmse: 0.2, nodes: [['conv', 0.003], ['fc', 0.3]], first: 'fc' }),
      comparison({ outVerdict: 'ok', top1: true, outNrmse: 0.002, nodes: [['conv', 0.002], ['fc', NaN]] }),
    ]);
    expect(a.inputs).toBe(3);
    expect(a.top1Agreement).toBeCloseTo(2 / 3);
    expect(a.outputNrmse.max).toBe(0.2);
    expect(a.outputNrmse.mean).toBeCloseTo(0.203 / 3);
    expect(a.divergentInputs).toBe(1);
    expect(a.firstDivergentInput).toBe(1);
    expect(a.firstDivergentNode).toBe('fc');
    const conv = a.nodes.find((n) => n.name === 'conv')!;
    expect(conv.median).toBeCloseTo(0.002);
    expect(conv.p95).toBeCloseTo(0.0029);
    expect(a.nodes.find((n) => n.name === 'fc')).toMatchObject({ median: expect.closeTo(0.155, 5) });
    expect(breaksTolerance(a, 0)).toBe(true);
    const clean = cellAccuracy([comparison({ outVerdict: 'ok', top1: false, outNrmse: 0, nodes: [] })]);
    expect(breaksTolerance(clean, 0)).toBe(false);
    expect(breaksTolerance(clean, 1)).toBe(true);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
  });
});

/** A tiny XML reader: elements with attributes, CDATA, self-closing tags; throws on bad nesting. */
interface El { tag: string; attrs: Record<string, string>; children: El[]; text: string }
function parseXml(xml: string): El {
  const root: El = { tag: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const re = /<\?[^?]*\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(xml))) {
    if (m.index !== consumed) throw new Error(`unparsed XML at ${consumed}`);
    consumed = re.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[1] !== undefined) top.text += m[1];
    else if (m[3]) {
      if (m[2]) {
        if (top.tag !== m[3]) throw new Error(`</${m[3]}> closes <${top.tag}>`);
        stack.pop();
        continue;
      }
      const attrs: Record<string, string> = {};
      for (const a of (m[4] ?? '').matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
      const el: El = { tag: m[3], attrs, children: [], text: '' };
      top.children.push(el);
      if (!m[5]) stack.push(el);
    } else if (m[6] && m[6].trim()) throw new Error(`text outside CDATA: ${m[6]}`);
  }
  if (consumed !== xml.length || stack.length !== 1) throw new Error('unbalanced XML');
  return root;
}

function cell(over: Partial<CellSummary>): CellSummary {
  return { id: 'm › d › wasm', model: 'm', device: 'd', backend: 'wasm', status: 'passed', reason: null, attempts: 1, seconds: 1.5, environment: null, latency: null, accuracy: null, diagnosis: null, traces: [], ...over };
}

describe('JUnit XML', () => {
  it('has the shape of Playwright\'s junit reporter: testsuites › testsuite per model › testcase per cell', () => {
    const summary: FarmSummary = {
      schemaVersion: 1, tool: 'exray farm', createdAt: '2026-01-01T00:00:00.000Z', seconds: 12.3456,
      reference: { backend: 'cpu', traces: [] }, tolerance: { nrmse: null, top1: 1 }, models: ['emotion', 'ocr'],
      devices: [{ name: 'Pixel 7', kind: 'emulate' }], backends: ['wasm', 'webgl-f16'],
      totals: { cells: 4, passed: 1, failed: 1, errors: 1, skipped: 1 }, causes: { float16: ['emotion › Pixel 7 › webgl-f16'] }, exitCode: 1,
      cells: [
        cell({ id: 'emotion › Pixel 7 › wasm', model: 'emotion', device: 'Pixel 7', traces: [{ input: 'a.png', path: 'traces/emotion/Pixel_7/wasm/a.png.exray' }] }),
        cell({ id: 'emotion › Pixel 7 › webgl-f16', model: 'emotion', device: 'Pixel 7', backend: 'webgl-f16', status: 'failed', reason: '1/1 inputs diverge <&>',
          diagnosis: { cause: 'float16', causes: ['float16'], firstDivergentNode: 'model/Softmax', summary: 'half-float ]]> textures', input: 'a.png' },
          traces: [{ input: 'a.png', path: 'traces/emotion/Pixel_7/webgl-f16/a.png.exray' }] }),
        cell({ id: 'ocr › Pixel 7 › wasm', model: 'ocr', device: 'Pixel 7', status: 'error', reason: 'device lost: the browser disconnected' }),
        cell({ id: 'ocr › Pixel 7 › webgl-f16', model: 'ocr', device: 'Pixel 7', backend: 'webgl-f16', status: 'skipped', reason: 'ONNX: "f16" is TF.js', seconds: 0 }),
      ],
    };
    const xml = junitXml(summary);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    const root = parseXml(xml);
    const suites = root.children[0]!;
    expect(suites.tag).toBe('testsuites');
    expect(suites.attrs).toMatchObject({ tests: '4', failures: '2', skipped: '1', errors: '0', time: '12.346' });
    expect(suites.children.map((s) => [s.tag, s.attrs.name, s.attrs.tests, s.attrs.failures, s.attrs.skipped])).toEqual([
      ['testsuite', 'emotion', '2', '1', '0'],
      ['testsuite', 'ocr', '2', '1', '1'],
    ]);
    const [ok, f16] = suites.children[0]!.children;
    expect(ok!.attrs).toMatchObject({ name: 'emotion › Pixel 7 › wasm', classname: 'emotion.Pixel 7', time: '1.5' });
    expect(ok!.children.map((c) => c.tag)).toEqual(['system-out']);
    expect(ok!.children[0]!.text).toContain('traces/emotion/Pixel_7/wasm/a.png.exray');
    const failure = f16!.children.find((c) => c.tag === 'failure')!;
    expect(failure.attrs.type).toBe('float16');
    expect(failure.attrs.message).toBe('1/1 inputs diverge <&>; first divergent node: model/Softmax; cause: float16');
    expect(failure.text).toBe('half-float ]]> textures');
    const [lost, skipped] = suites.children[1]!.children;
    expect(lost!.children[0]).toMatchObject({ tag: 'failure', attrs: { type: 'error', message: 'device lost: the browser disconnected' } });
    expect(skipped!.children[0]).toMatchObject({ tag: 'skipped', attrs: { message: 'ONNX: "f16" is TF.js' } });
    expect(xmlEscape('a\u0001b<')).toBe('ab&lt;');
  });
});

describe('index.html', () => {
  const summary = (): FarmSummary => ({
    schemaVersion: 1, tool: 'exray farm', createdAt: '2026-01-01T00:00:00.000Z', seconds: 1,
    reference: { backend: 'cpu', traces: [] }, tolerance: { nrmse: null, top1: 1 }, models: ['m'],
    devices: [{ name: 'Pixel 7', kind: 'emulate' }], backends: ['wasm'],
    totals: { cells: 1, passed: 0, failed: 1, errors: 0, skipped: 0 }, causes: {}, exitCode: 1,
    cells: [cell({ id: 'm › Pixel 7 › wasm', model: 'm', device: 'Pixel 7', status: 'failed', reason: '</script><script>alert(1)</script>' })],
  });

  it('no value in the report can end the embedded JSON or the script early', () => {
    const json = reportJson({ summary: summary(), details: {} });
    expect(json).not.toMatch(/[<>&]/);
    expect((JSON.parse(json) as { summary: FarmSummary }).summary.cells[0]!.reason).toBe('</script><script>alert(1)</script>');
    expect(inlineScriptText('a="</script>";b=/<\/SCRIPT/')).toBe('a="<\\/script>";b=/<\\/SCRIPT/');
    const html = indexHtml(summary(), { app: { script: 'void 0', sha256: 'AAAA' }, json });
    // The static table escapes it too; the one executable script is the app's, allowed by its hash only.
    expect(html.match(/<script/g)!.length).toBe(2);
    expect(html).toContain("script-src 'sha256-AAAA'");
    expect(html).toContain('&lt;/script&gt;');
  });

  it('without the built app: the static table, and why there is nothing more', () => {
    const html = indexHtml(summary());
    expect(html).not.toMatch(/<script/);
    expect(html).toContain('dist/farm-report.js is missing');
    expect(html).not.toContain('script-src');
  });
});

describe('progress', () => {
  it('plain lines with done / running / failed and an ETA when not a TTY', () => {
    const out: string[] = [];
    const p = new FarmProgress((s) => out.push(s), false);
    p.plan(3);
    p.start('a');
    p.start('b');
    p.end('a', true);
    p.end('b', false);
    expect(out[0]).toBe('exray farm: 3 cells\n');
    expect(out[1]).toMatch(/^\[1\/3\] ok {3}a · running 1, failed 0, ETA \d+s\n$/);
    expect(out[2]).toMatch(/^\[2\/3\] FAIL b · running 0, failed 1, ETA \d+s\n$/);
    expect(out.join('')).not.toContain('\r');
  });
});
