/**
 * `exray repro` on the edited-weights kernel case (ppocr-mobile-v2-cls with one HardSigmoid's alpha
 * changed 0.2 → 0.3, run on onnxruntime-web wasm — a kernel that computes differently on the same
 * inputs): the bundle reproduces the error by itself in Node (its own script, onnxruntime only) and in
 * Chromium (its own page; the CDN URL of onnxruntime-web is answered from node_modules by a Playwright
 * route, so nothing leaves the machine). A node that only inherited the error is refused.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../src/cli/chromium.ts';
import type { ModelProto } from '../src/onnx/model.ts';
import { decodeOnnx, describeOnnx, encodeOnnx } from '../src/onnx/model.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { encodeTrace } from '../src/trace/file.ts';
import { editedOnnxEdge, setOnnxAttribute } from './diagnose-helpers.ts';
import { ROOT, SAMPLES, runCli } from './helpers.ts';
import { CLS } from './ort-helpers.ts';

const run = promisify(execFile);
const TARGET = 'p2o.HardSigmoid.4';
const edit = (m: ModelProto): ModelProto => setOnnxAttribute(m, TARGET, 'alpha', 0.3);
// Under the repo, so the bundle's `import 'onnxruntime-web'` resolves from the repo's node_modules
// without an install (the test runs offline).
const work = join(ROOT, 'test-artifacts', `repro-${process.pid}`);
const bundle = join(work, 'bundle');
let edgeFile: string;
let editedFile: string;
let consumer: string;

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  const edge = await editedOnnxEdge('ppocr-mobile-v2-cls', await decodeImageFile(join(SAMPLES, 'chelsea.png')), edit, 'wasm');
  edgeFile = join(work, 'edge.exray');
  writeFileSync(edgeFile, encodeTrace(edge));
  const file = join(CLS, 'model.onnx');
  const model = decodeOnnx(new Uint8Array(readFileSync(file)), file);
  editedFile = join(work, 'deployed.onnx');
  writeFileSync(editedFile, encodeOnnx(edit(model)));
  // The node that reads the HardSigmoid's output: its error is inherited, not its own.
  const info = describeOnnx(model);
  const out = info.nodes.find((n) => n.name === TARGET)!.outputs[0]!;
  consumer = info.nodes.find((n) => n.inputs.includes(out))!.name;
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('exray repro: a bundle that reproduces a node\'s own error without exray', () => {
  it('writes the one-node model, recorded inputs, expected and edge outputs, a script, a page and a README', async () => {
    const r = await runCli(['repro', edgeFile, '--node', TARGET, '--model', CLS, '--edge-model', editedFile, '--out', bundle]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/p2o\.HardSigmoid\.4 \(HardSigmoid\), recorded error nrmse 0\.0\d+ > tolerance/);
    expect(r.out).toMatch(/re-run here on wasm: nrmse 0\.0\d+/);
    const manifest = JSON.parse(await readFile(join(bundle, 'repro.json'), 'utf8')) as { op: string; inputs: { name: string; shape: number[] }[]; outputs: { name: string }[] };
    expect(manifest.op).toBe('HardSigmoid');
    expect(manifest.inputs.map((i) => i.shape)).toEqual([[1, 40, 1, 1]]);
    const single = decodeOnnx(new Uint8Array(await readFile(join(bundle, 'model.onnx'))), 'bundle model');
    expect(single.graph!.node.map((n) => n.opType)).toEqual(['HardSigmoid']);
    const readme = await readFile(join(bundle, 'README.md'), 'utf8');
    expect(readme).toContain('alpha=0.3');
    expect(readme).toContain('onnxruntime-web 1.30.0');
    // No dependency on exray: the script and the page import onnxruntime only.
    const pkg = JSON.parse(await readFile(join(bundle, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toEqual({ 'onnxruntime-web': '1.30.0' });
    for (const f of ['run.mjs', 'index.html']) {
      const text = await readFile(join(bundle, f), 'utf8');
      expect([...text.matchAll(/import .* from '([^']+)'/g)].map((m) => m[1]!.replace(/@[\d.]+\/.*$/, ''))).toEqual([f === 'run.mjs' ? 'node:fs' : 'https://cdn.jsdelivr.net/npm/onnxruntime-web', ...(f === 'run.mjs' ? ['onnxruntime-web'] : [])]);
    }
  });

  it('its script reproduces the error in Node, by itself', async () => {
    const res = await run(process.execPath, ['run.mjs'], { cwd: bundle, timeout: 60_000 }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(res.code, res.out).toBe(1);
    expect(res.out).toMatch(/hardsigmoid_4\.tmp_0: nrmse 0\.0\d+/);
    expect(res.out).toContain(`REPRODUCED: ${TARGET} (HardSigmoid)`);
  });

  it('its page reproduces the error in Chromium, by itself', async () => {
    const dist = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
    const server: Server = createServer((req, res) => {
      const rel = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
      readFile(join(bundle, rel || 'index.html')).then(
        (body) => res.writeHead(200, { 'content-type': rel.endsWith('.html') || !rel ? 'text/html' : rel.endsWith('.json') ? 'application/json' : 'application/octet-stream' }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      await page.route('https://cdn.jsdelivr.net/npm/onnxruntime-web@1.30.0/dist/**', async (route) => {
        const file = new URL(route.request().url()).pathname.split('/dist/')[1]!;
        const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
        await route.fulfill({ body: await readFile(join(dist, file)), headers: { 'content-type': type, 'access-control-allow-origin': '*' } });
      });
      await page.goto(`http://127.0.0.1:${port}/index.html`);
      const result = page.locator('#result[data-done="true"]');
      await result.waitFor({ timeout: 60_000 });
      expect(await result.getAttribute('data-error')).toBeNull();
      expect(await result.getAttribute('data-reproduced')).toBe('true');
      expect(Number(await result.getAttribute('data-nrmse'))).toBeGreaterThan(0.01);
    } finally {
      await browser.close();
      server.close();
    }
  });

  it('refuses a node whose error is only inherited, and a run without --model', async () => {
    const r = await runCli(['repro', edgeFile, '--node', consumer, '--model', CLS, '--edge-model', editedFile, '--out', join(work, 'inherited')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`edge\\.exray: node ${consumer.replace(/\./g, '\\.')}'s own error \\(nrmse [\\d.e-]+ on its recorded inputs\\) is within tolerance`));
    const m = await runCli(['repro', edgeFile, '--node', TARGET, '--out', join(work, 'x')]);
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/edge\.exray: pass --model/);
  });
});
