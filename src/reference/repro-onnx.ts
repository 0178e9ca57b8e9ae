/**
 * `exray repro`: a folder that reproduces one ONNX node's own error without exray, for a runtime bug
 * report. The node is cut out of the model the edge ran as a one-node model (src/onnx/single-node.ts,
 * the diagnosis's own replay), fed the edge's recorded inputs; the expected outputs are that node
 * replayed alone on the reference runtime; a Node script and a browser page run it on the edge's
 * runtime and backend and say whether the error is still there. Only onnxruntime is needed to run it.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExrayInputError } from '../errors.ts';
import { tensorMetrics, type TensorMetrics } from '../compare/metrics.ts';
import { globalTolerance } from '../compare/tolerance.ts';
import { ortTypeOfOnnx, toOrtTensor } from '../instrument/ort/tensors.ts';
import { decodeOnnx, describeOnnx, encodeOnnx } from '../onnx/model.ts';
import { isNotReplayable, singleNodeModel, traceValues } from '../onnx/single-node.ts';
import type { BlobData, Trace } from '../trace/types.ts';
import { writeFileAtomic } from '../server/atomic.ts';
import { loadOrt, resolveOnnxFile, type OrtNodeBackend } from './ort-node.ts';
import { replayOnnxNodes } from './replay-onnx.ts';

export interface ReproOptions {
  edge: Trace;
  edgeFile: string;
  node: string;
  /** The reference model (.onnx or its folder): the expected outputs. */
  model: string;
  /** The model the edge ran, when it is not the reference: the one-node model is cut from it. */
  edgeModel?: string;
  /** Reference runtime for the expected outputs. */
  backend: OrtNodeBackend;
  out: string;
  /** Write the bundle even when the node's own error is within tolerance. */
  force?: boolean;
}

export interface ReproResult {
  out: string;
  node: string;
  op: string;
  /** The edge's recorded output vs the expected one, per output. */
  recorded: (TensorMetrics | null)[];
  /** The bundle run here on the edge's runtime, when that runtime runs in Node; else why not. */
  rerun: { backend: string; metrics: (TensorMetrics | null)[] } | { skipped: string };
  tolerance: number;
  files: string[];
}

interface NpyType {
  descr: string;
  bytes: number;
  write(v: DataView, o: number, x: number): void;
}

const NPY: Record<string, NpyType> = {
  float32: { descr: '<f4', bytes: 4, write: (v, o, x) => v.setFloat32(o, x, true) },
  float16: { descr: '<f4', bytes: 4, write: (v, o, x) => v.setFloat32(o, x, true) },
  int32: { descr: '<i4', bytes: 4, write: (v, o, x) => v.setInt32(o, x, true) },
  int64: { descr: '<i8', bytes: 8, write: (v, o, x) => v.setBigInt64(o, BigInt(Math.trunc(x)), true) },
  int8: { descr: '|i1', bytes: 1, write: (v, o, x) => v.setInt8(o, x) },
  uint8: { descr: '|u1', bytes: 1, write: (v, o, x) => v.setUint8(o, x) },
  bool: { descr: '|b1', bytes: 1, write: (v, o, x) => v.setUint8(o, x ? 1 : 0) },
};

/** A .npy (format 1.0) of `data` as `ortType`: what numpy.load and the bundle's script read. */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[], ortType: string): Uint8Array {
  const t = NPY[ortType] ?? NPY['float32']!;
  let header = `{'descr': '${t.descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = `${header}${' '.repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.length * t.bytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  const v = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) t.write(v, i * t.bytes, data[i]!);
  return out;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'value';
}

function npmPackage(edge: Trace): { name: string; version: string } {
  const r = edge.header.runtime;
  return { name: r.name === 'onnxruntime-node' ? 'onnxruntime-node' : 'onnxruntime-web', version: r.version };
}

/** The Node script: onnxruntime and the files beside it, nothing else. */
function runScript(pkg: string, ep: string): string {
  return `// Runs the one-node model on ${pkg} (${ep}) with the recorded inputs and compares with expected/.
// node run.mjs  →  exit 1 and "REPRODUCED" when the error is there.
import { readFileSync } from 'node:fs';
import * as ort from '${pkg}';
const r = JSON.parse(readFileSync(new URL('repro.json', import.meta.url)));
const TYPES = { '<f4': Float32Array, '<i4': Int32Array, '<i8': BigInt64Array, '|i1': Int8Array, '|u1': Uint8Array, '|b1': Uint8Array };
function npy(file) {
  const b = readFileSync(new URL(file, import.meta.url)), n = b.readUInt16LE(8), h = b.toString('latin1', 10, 10 + n);
  const T = TYPES[/'descr': '([^']+)'/.exec(h)[1]], data = b.buffer.slice(b.byteOffset + 10 + n, b.byteOffset + b.length);
  return new T(data);
}
if (${JSON.stringify(ep)} === 'wasm') ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(readFileSync(new URL('model.onnx', import.meta.url)), { executionProviders: [${JSON.stringify(ep === 'wasm' && pkg === 'onnxruntime-node' ? 'cpu' : ep)}] });
const feeds = Object.fromEntries(r.inputs.map((i) => [i.name, new ort.Tensor(i.type, npy(i.file), i.shape)]));
const out = await session.run(feeds);
let worst = 0;
for (const o of r.outputs) {
  const a = Array.from(out[o.name].data, Number), b = Array.from(npy(o.expected), Number);
  let s = 0, max = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < b.length; i++) { const d = a[i] - b[i]; s += d * d; max = Math.max(max, Math.abs(d)); lo = Math.min(lo, a[i], b[i]); hi = Math.max(hi, a[i], b[i]); }
  const nrmse = Math.sqrt(s / b.length) / (hi - lo || 1);
  worst = Math.max(worst, nrmse);
  console.log(\`\${o.name}: nrmse \${nrmse.toPrecision(4)}, max |diff| \${max.toPrecision(4)} (tolerance nrmse \${r.tolerance})\`);
}
console.log(worst > r.tolerance ? \`REPRODUCED: \${r.node} (\${r.op}) differs from the expected output\` : 'not reproduced: within tolerance');
process.exitCode = worst > r.tolerance ? 1 : 0;
`;
}

/** The browser page: onnxruntime-web from the CDN at the edge's version, the edge's execution provider. */
function indexHtml(version: string, ep: string, node: string): string {
  const bundle = ep === 'webgpu' ? 'ort.webgpu.min.mjs' : 'ort.wasm.min.mjs';
  return `<!doctype html>
<meta charset="utf-8"><title>repro: ${node.replace(/[<&]/g, '')}</title>
<p>Serve this folder over http (e.g. <code>npx http-server .</code> or <code>python3 -m http.server</code>) and open this page.</p>
<pre id="result">running…</pre>
<script type="module">
import * as ort from 'https://cdn.jsdelivr.net/npm/onnxruntime-web@${version}/dist/${bundle}';
const el = document.getElementById('result');
const TYPES = { '<f4': Float32Array, '<i4': Int32Array, '<i8': BigInt64Array, '|i1': Int8Array, '|u1': Uint8Array, '|b1': Uint8Array };
async function npy(file) {
  const b = await (await fetch(file)).arrayBuffer(), v = new DataView(b), n = v.getUint16(8, true);
  const h = new TextDecoder('latin1').decode(new Uint8Array(b, 10, n));
  return new TYPES[/'descr': '([^']+)'/.exec(h)[1]](b.slice(10 + n));
}
try {
  const r = await (await fetch('repro.json')).json();
  ort.env.wasm.numThreads = 1;
  const model = new Uint8Array(await (await fetch('model.onnx')).arrayBuffer());
  const session = await ort.InferenceSession.create(model, { executionProviders: ['${ep}'] });
  const feeds = {};
  for (const i of r.inputs) feeds[i.name] = new ort.Tensor(i.type, await npy(i.file), i.shape);
  const out = await session.run(feeds);
  let worst = 0, lines = [];
  for (const o of r.outputs) {
    const a = Array.from(out[o.name].data, Number), b = Array.from(await npy(o.expected), Number);
    let s = 0, max = 0, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < b.length; i++) { const d = a[i] - b[i]; s += d * d; max = Math.max(max, Math.abs(d)); lo = Math.min(lo, a[i], b[i]); hi = Math.max(hi, a[i], b[i]); }
    const nrmse = Math.sqrt(s / b.length) / (hi - lo || 1);
    worst = Math.max(worst, nrmse);
    lines.push(o.name + ': nrmse ' + nrmse.toPrecision(4) + ', max |diff| ' + max.toPrecision(4));
  }
  el.dataset.nrmse = String(worst);
  el.dataset.reproduced = String(worst > r.tolerance);
  el.textContent = lines.join('\\n') + '\\n' + (worst > r.tolerance ? 'REPRODUCED' : 'not reproduced: within tolerance ' + r.tolerance);
} catch (e) {
  el.dataset.error = String(e);
  el.textContent = 'error: ' + e;
}
el.dataset.done = 'true';
</script>
`;
}

function readme(o: {
  edge: Trace; node: string; op: string; attributes: string[]; inputs: { name: string; type: string; shape: number[] }[];
  outputs: string[]; recorded: (TensorMetrics | null)[]; rerun: ReproResult['rerun']; tolerance: number; backend: string; pkg: { name: string; version: string };
}): string {
  const e = o.edge.header.environment;
  const metric = (m: TensorMetrics | null): string => (m ? `nrmse ${m.nrmse.toPrecision(4)}, max |diff| ${m.maxAbs.toPrecision(4)}, cosine ${m.cosine.toFixed(6)}` : 'not comparable');
  const rerun = 'skipped' in o.rerun ? `not re-run where the bundle was made (${o.rerun.skipped})` : o.rerun.metrics.map((m, k) => `- ${o.outputs[k]}: ${metric(m)}`).join('\n');
  return `# ${o.op} node \`${o.node}\` computes a different output on ${o.pkg.name} ${o.pkg.version} (${o.edge.header.runtime.backend})

A one-node ONNX model (\`model.onnx\`) cut out of the deployed model, fed the inputs the deployment
recorded (\`inputs/\`). \`expected/\` is the same node run alone on ${o.backend === 'cpu' ? 'onnxruntime-node (CPU EP)' : 'onnxruntime-web (wasm EP) in Node'}
on the same inputs; \`edge/\` is what the deployment produced.

## Run it
- Node: \`npm install\` then \`node run.mjs\` (exit 1 and \`REPRODUCED\` when the error is there).
- Browser: serve this folder over http and open \`index.html\` (onnxruntime-web ${o.pkg.version} from the CDN, EP \`${o.edge.header.runtime.backend}\`).

## Measured
Deployment vs expected (tolerance nrmse ${o.tolerance}):
${o.recorded.map((m, k) => `- ${o.outputs[k]}: ${metric(m)}`).join('\n')}

This bundle's model on ${o.pkg.name} (${o.edge.header.runtime.backend}), where it was made:
${rerun}

## The node
- op: ${o.op}${o.attributes.length ? `\n- attributes: ${o.attributes.join(', ')}` : ''}
- inputs: ${o.inputs.map((i) => `${i.name} ${i.type}[${i.shape.join(',')}]`).join(', ')}
- outputs: ${o.outputs.join(', ')}

## Environment of the deployment
- runtime: ${o.edge.header.runtime.name} ${o.edge.header.runtime.version}, backend ${o.edge.header.runtime.backend}
- ${e.kind === 'browser' ? `user agent: ${e.userAgent}` : `platform: ${e.platform}`}
- cores: ${e.hardwareConcurrency}${e.webgpu ? `\n- WebGPU: ${e.webgpu.vendor} ${e.webgpu.architecture ?? ''}` : ''}${e.webgl ? `\n- WebGL: ${e.webgl.renderer}` : ''}
- recorded: ${o.edge.header.createdAt}

Made with exray (not needed to run this).
`;
}

function attrText(a: { name: string; f?: number; i?: bigint; s?: Uint8Array; ints?: bigint[]; floats?: number[] }): string {
  if (a.ints && a.ints.length) return `${a.name}=[${a.ints.join(',')}]`;
  if (a.floats && a.floats.length) return `${a.name}=[${a.floats.join(',')}]`;
  if (a.s && a.s.length) return `${a.name}=${new TextDecoder().decode(a.s)}`;
  if (a.i !== undefined && a.i !== 0n) return `${a.name}=${a.i}`;
  if (a.f !== undefined && a.f !== 0) return `${a.name}=${Number(a.f.toPrecision(7))}`;
  return a.name;
}

export async function writeReproBundle(o: ReproOptions): Promise<ReproResult> {
  const { edge, edgeFile } = o;
  if (edge.header.model.format !== 'onnx') throw new ExrayInputError(edgeFile, `repro bundles are made for ONNX models; this trace is ${edge.header.model.format}`);
  if (edge.header.capture !== 'tensors') throw new ExrayInputError(edgeFile, `a repro needs the node's recorded inputs: trace with --capture tensors (this one is ${edge.header.capture})`);
  const record = edge.header.nodes.find((n) => n.name === o.node);
  if (!record) throw new ExrayInputError(edgeFile, `no node "${o.node}" in the trace`);
  const { file: modelFile } = await resolveOnnxFile(o.edgeModel ?? o.model);
  const model = decodeOnnx(new Uint8Array(await readFile(modelFile)), modelFile);
  const info = describeOnnx(model);
  const single = singleNodeModel(model, o.node, traceValues(edge, info), info);
  if (isNotReplayable(single)) throw new ExrayInputError(edgeFile, `node ${o.node} cannot be cut out alone: ${single.reason}`);

  const [replay] = await replayOnnxNodes(o.model, o.backend, edge, [o.node]);
  if (!replay || replay.error) throw new ExrayInputError(o.model, `node ${o.node} could not be replayed on the reference: ${replay?.error ?? 'no result'}`);
  const recordedOut = record.outputs.map((t) => (t.blob ? (edge.blobs.get(t.blob.id) ?? null) : null));
  const recorded = single.outputs.map((_, k) => {
    const a = recordedOut[k];
    const b = replay.outputs[k];
    return a && b && a.length === b.length ? tensorMetrics(a, b) : null;
  });
  const tolerance = globalTolerance(undefined).nrmse ?? 1e-3;
  const worst = Math.max(0, ...recorded.map((m) => m?.nrmse ?? 0));
  if (!o.force && worst <= tolerance) {
    throw new ExrayInputError(edgeFile, `node ${o.node}'s own error (nrmse ${worst.toPrecision(3)} on its recorded inputs) is within tolerance ${tolerance}: nothing to reproduce (its error is inherited; pass --force to write the bundle anyway)`);
  }

  // ---- the bundle: written into a fresh folder; every file atomically ----
  const existing = await readdir(o.out).catch(() => null);
  if (existing && existing.length > 0 && !existing.includes('repro.json')) throw new ExrayInputError(o.out, 'exists and is not an earlier repro bundle: give an empty or new folder');
  await mkdir(join(o.out, 'inputs'), { recursive: true });
  await mkdir(join(o.out, 'expected'), { recursive: true });
  await mkdir(join(o.out, 'edge'), { recursive: true });
  const files: string[] = [];
  const put = async (rel: string, data: string | Uint8Array): Promise<void> => {
    await writeFileAtomic(join(o.out, rel), data);
    files.push(rel);
  };
  const pkg = npmPackage(edge);
  const ep = edge.header.runtime.backend;
  const inputs = single.feeds.map((f, k) => {
    const type = ortTypeOfOnnx(f.elemType) ?? 'float32';
    return { name: f.name, type, shape: f.shape, file: `inputs/${k}_${safeName(f.name)}.npy`, data: f.data };
  });
  const outputs = single.outputs.map((name, k) => ({ name, expected: `expected/${k}_${safeName(name)}.npy`, edge: `edge/${k}_${safeName(name)}.npy` }));
  await put('model.onnx', encodeOnnx(single.model));
  for (const i of inputs) await put(i.file, encodeNpy(i.data, i.shape, i.type));
  for (const [k, out] of outputs.entries()) {
    const shape = record.outputs[k]?.shape ?? [];
    const exp = replay.outputs[k];
    if (exp) await put(out.expected, encodeNpy(exp, shape, 'float32'));
    const got = recordedOut[k];
    if (got) await put(out.edge, encodeNpy(got, shape, 'float32'));
  }
  await put('repro.json', `${JSON.stringify({
    node: o.node, op: single.node.op, tolerance,
    inputs: inputs.map(({ name, type, shape, file }) => ({ name, type, shape, file })),
    outputs: outputs.map(({ name, expected, edge: e }) => ({ name, expected, edge: e })),
    runtime: edge.header.runtime,
  }, null, 2)}\n`);
  await put('run.mjs', runScript(pkg.name, ep));
  await put('index.html', indexHtml(edge.header.runtime.version, ep === 'webgpu' ? 'webgpu' : 'wasm', o.node));
  await put('package.json', `${JSON.stringify({ name: safeName(`repro-${o.node}`).toLowerCase(), private: true, type: 'module', scripts: { start: 'node run.mjs' }, dependencies: { [pkg.name]: pkg.version } }, null, 2)}\n`);

  // ---- re-run the bundle's model here when the edge's runtime runs in Node ----
  let rerun: ReproResult['rerun'];
  const nodeBackend: OrtNodeBackend | null = pkg.name === 'onnxruntime-node' ? 'cpu' : ep === 'wasm' ? 'wasm' : null;
  if (!nodeBackend) rerun = { skipped: `${pkg.name} on ${ep} runs in a browser: open index.html` };
  else {
    const { ort } = await loadOrt(nodeBackend);
    const session = await ort.InferenceSession.create(encodeOnnx(single.model), { executionProviders: [nodeBackend] });
    try {
      const feeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
      for (const f of single.feeds) feeds[f.name] = toOrtTensor(ort, f, ortTypeOfOnnx(f.elemType) ?? 'float32');
      const res = await session.run(feeds);
      const metrics = single.outputs.map((name, k) => {
        const got = res[name]?.data as ArrayLike<number | bigint> | undefined;
        const exp = replay.outputs[k];
        if (!got || !exp || got.length !== exp.length) return null;
        return tensorMetrics(Float32Array.from(got, Number) as BlobData, exp);
      });
      rerun = { backend: nodeBackend, metrics };
    } finally {
      await session.release();
    }
  }
  const proto = model.graph!.node[single.node.position]!;
  await put('README.md', readme({
    edge, node: o.node, op: single.node.op, attributes: proto.attribute.map(attrText),
    inputs: inputs.map(({ name, type, shape }) => ({ name, type, shape })), outputs: single.outputs, recorded, rerun, tolerance, backend: o.backend, pkg,
  }));
  return { out: o.out, node: o.node, op: single.node.op, recorded, rerun, tolerance, files };
}
