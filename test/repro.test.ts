/**
 * `exray repro` on the edited-weights kernel cases — a node that computes differently on the same
 * inputs: ppocr-mobile-v2-cls (ONNX) with one HardSigmoid's alpha changed 0.2 → 0.3, run on
 * onnxruntime-web wasm; emotion (TF.js graph model) with one convolution's filter scaled by 1.2, run on
 * TF.js wasm. Each bundle reproduces the error by itself in Node (its own script, the runtime only) and
 * in Chromium (its own page; the CDN URLs of the runtimes are answered from node_modules by a
 * Playwright route, so nothing leaves the machine). A node that only inherited the error is refused.
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
import { encodeTrace } from '../src/trace/file-writer.ts';
import { prepareInput } from '../src/cli/commands/trace.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import { editedOnnxEdge, setOnnxAttribute } from './diagnose-helpers.ts';
import { MODELS, ROOT, SAMPLES, runCli } from './helpers.ts';
import { CLS } from './ort-helpers.ts';
import { editedEmotion } from './repro-helpers.ts';

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
/** The TF.js case: the deployed (edited) model folder, its edge trace and the target node. */
const tf = { dir: '', edge: '', node: '', bundle: '' };

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

  tf.dir = join(work, 'emotion-deployed');
  tf.node = editedEmotion(tf.dir);
  const feed = await prepareInput(tf.dir, { image: join(SAMPLES, 'chelsea.png') });
  const tfEdge = await traceInNode({ model: tf.dir, backend: 'wasm', feed: feed.feed, feedFile: feed.feedFile, capture: 'tensors', runs: 1, warmup: 0, label: 'edge', ...(feed.source ? { source: feed.source } : {}), ...(feed.preprocess ? { preprocess: feed.preprocess } : {}) });
  tf.edge = join(work, 'emotion-edge.exray');
  writeFileSync(tf.edge, encodeTrace(tfEdge));
  tf.bundle = join(work, 'tfjs-bundle');
  // Two wasm traces (ORT-web and TF.js): ~20-40 s quiet, 2-3x that beside another heavy file (issue #15 item 7).
}, 240_000);

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

  it('TF.js graph model: the bundle holds the node, its weights and a Placeholder; its script reproduces the error in Node', async () => {
    const r = await runCli(['repro', tf.edge, '--node', tf.node, '--model', join(MODELS, 'emotion'), '--edge-model', tf.dir, '--out', tf.bundle]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\(_FusedConv2D\), recorded error nrmse 0\.0\d+ > tolerance/);
    const model = JSON.parse(await readFile(join(tf.bundle, 'model.json'), 'utf8')) as { modelTopology: { node: { name: string; op: string; input?: string[] }[] } };
    const ops = model.modelTopology.node.map((n) => n.op);
    expect(ops.filter((o) => o === 'Placeholder').length).toBe(1);
    expect(ops.at(-1)).toBe('_FusedConv2D');
    expect(ops.filter((o) => o === 'Const').length).toBe(2);
    const pkg = JSON.parse(await readFile(join(tf.bundle, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toEqual({ '@tensorflow/tfjs': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.22.0' });
    const res = await run(process.execPath, ['run.mjs'], { cwd: tf.bundle, timeout: 60_000 }).then(
      (x) => ({ code: 0, out: x.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(res.code, res.out).toBe(1);
    expect(res.out).toContain(`REPRODUCED: ${tf.node} (_FusedConv2D)`);
  });

  it('diagnose names the one edited layer of a deployed model that differs from the reference (kernel, not "none")', async () => {
    // Its own error (~0.011) is below the quantized-model kernel threshold, and it is the only
    // layer that loses precision: one changed weight, not a quantization spread.
    const r = await runCli(['diagnose', tf.edge, '--model', join(MODELS, 'emotion'), '--edge-model', tf.dir, '--backend', 'cpu', '--json']);
    expect(r.code, r.err).toBe(0);
    const d = JSON.parse(r.out) as { causes: { code: string; node?: string; detail: string }[] };
    expect(d.causes[0]!.code, r.out.slice(0, 2000)).toBe('kernel');
    expect(d.causes[0]!.node).toBe(tf.node);
    expect(d.causes[0]!.detail).toMatch(/only layer that loses precision/);
  });

  // Chromium and two pages that each load a runtime's wasm: up to a minute per page on a loaded machine.
  it('both pages reproduce their errors in Chromium, by themselves', { timeout: 360_000 }, async () => {
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      for (const dir of [bundle, tf.bundle]) {
        const server: Server = createServer((req, res) => {
          const rel = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
          readFile(join(dir, rel || 'index.html')).then(
            (body) => res.writeHead(200, { 'content-type': rel.endsWith('.html') || !rel ? 'text/html' : rel.endsWith('.json') ? 'application/json' : 'application/octet-stream' }).end(body),
            () => res.writeHead(404).end(),
          );
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        const port = (server.address() as { port: number }).port;
        const page = await browser.newPage();
        try {
          // cdn.jsdelivr.net/npm/<package>@<version>/dist/<file> → node_modules/<package>/dist/<file>.
          await page.route('https://cdn.jsdelivr.net/npm/**', async (route) => {
            const m = /^\/npm\/((?:@[^/]+\/)?[^@/]+)@[^/]+\/dist\/(.+)$/.exec(new URL(route.request().url()).pathname);
            if (!m) return route.fulfill({ status: 404 });
            const file = m[2]!;
            const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
            await route.fulfill({ body: await readFile(join(ROOT, 'node_modules', m[1]!, 'dist', file)), headers: { 'content-type': type, 'access-control-allow-origin': '*' } });
          });
          await page.goto(`http://127.0.0.1:${port}/index.html`);
          const result = page.locator('#result[data-done="true"]');
          await result.waitFor({ timeout: 150_000 });
          expect(await result.getAttribute('data-error'), dir).toBeNull();
          expect(await result.getAttribute('data-reproduced'), dir).toBe('true');
          expect(Number(await result.getAttribute('data-nrmse'))).toBeGreaterThan(0.01);
        } finally {
          await page.close();
          server.close();
        }
      }
    } finally {
      await browser.close();
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
