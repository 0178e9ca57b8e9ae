/**
 * The files of a repro bundle (`exray repro`), apart from the one-node model itself: the node's
 * recorded inputs, expected and edge outputs as `.npy`, `repro.json`, a Node script, a browser page,
 * `package.json` and a README. Pure (no DOM, no Node): the CLI writes these files, the page zips them
 * (src/viewer/state/repro.ts). Runnable without exray: the script and the page need only the runtime
 * the edge ran. The one-node model comes from repro-cut.ts, the expected outputs from a replay of the
 * node alone on the reference (Node: src/reference/repro.ts; the page: its single-node replays).
 */
import { ExrayInputError } from '../errors.ts';
import { tensorMetrics, type TensorMetrics } from '../compare/metrics.ts';
import { globalTolerance } from '../compare/tolerance.ts';
import type { BlobData, Trace } from '../trace/types.ts';
import type { ReproCut } from './repro-cut.ts';

export type ReproRuntime = 'onnx' | 'tfjs';

export interface ReproTensor {
  name: string;
  /** onnxruntime tensor type (`float32`, `int64`, …) or TF.js dtype (`float32`, `int32`, `bool`). */
  type: string;
  shape: number[];
  data: BlobData;
}

export interface ReproOutput {
  name: string;
  shape: number[];
  expected: BlobData | null;
  edge: BlobData | null;
}

export interface ReproDescription {
  runtime: ReproRuntime;
  edge: Trace;
  node: string;
  op: string;
  attributes: string[];
  inputs: ReproTensor[];
  outputs: ReproOutput[];
  /** The edge's recorded output vs the expected one, per output. */
  recorded: (TensorMetrics | null)[];
  /** The bundle's model run where it was made, per output; or why it was not. */
  rerun: { backend: string; metrics: (TensorMetrics | null)[] } | { skipped: string };
  tolerance: number;
  /** How the expected outputs were made (`onnxruntime-node (CPU EP)`, `TF.js cpu in Node`). */
  expectedBy: string;
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

/** A .npy (format 1.0) of `data` stored as `type`: what numpy.load and the bundle's script read. */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[], type: string): Uint8Array {
  const t = NPY[type] ?? NPY['float32']!;
  let header = `{'descr': '${t.descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  header = `${header}${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
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

/** The npm package and version the bundle runs on: the edge's own runtime. */
export function reproPackage(edge: Trace): { name: string; version: string } {
  const r = edge.header.runtime;
  if (r.name === 'tfjs') return { name: '@tensorflow/tfjs', version: r.version };
  return { name: r.name === 'onnxruntime-node' ? 'onnxruntime-node' : 'onnxruntime-web', version: r.version };
}

/** Shared by the script and the page: read a .npy, compare with expected, print. */
const NPY_READER = `const TYPES = { '<f4': Float32Array, '<i4': Int32Array, '<i8': BigInt64Array, '|i1': Int8Array, '|u1': Uint8Array, '|b1': Uint8Array };
function fromNpy(b) {
  const v = new DataView(b), n = v.getUint16(8, true), h = new TextDecoder('latin1').decode(new Uint8Array(b, 10, n));
  return new TYPES[/'descr': '([^']+)'/.exec(h)[1]](b.slice(10 + n));
}
function nrmse(a, b) {
  let s = 0, max = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < b.length; i++) { const d = a[i] - b[i]; s += d * d; max = Math.max(max, Math.abs(d)); lo = Math.min(lo, a[i], b[i]); hi = Math.max(hi, a[i], b[i]); }
  return { nrmse: Math.sqrt(s / b.length) / (hi - lo || 1), max };
}`;

/** How the script and the page run the model: onnxruntime or TF.js, on the edge's backend. */
function runBody(runtime: ReproRuntime, backend: string, load: (file: string) => string, flags: Record<string, boolean | number> = {}): string {
  if (runtime === 'onnx') {
    return `if (${JSON.stringify(backend)} === 'wasm') ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(new Uint8Array(${load('model.onnx')}), { executionProviders: [${JSON.stringify(backend)}] });
const feeds = {};
for (const i of r.inputs) feeds[i.name] = new ort.Tensor(i.type, fromNpy(${load('i.file')}), i.shape);
const res = await session.run(feeds);
const got = r.outputs.map((o) => Array.from(res[o.name].data, Number));`;
  }
  return `${Object.entries(flags).map(([k, v]) => `tf.env().set('${k}', ${JSON.stringify(v)});`).join('\n')}
await tf.setBackend(${JSON.stringify(backend)});
const json = JSON.parse(new TextDecoder().decode(${load('model.json')}));
const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: ${load('weights.bin')} }));
const feeds = {};
for (const i of r.inputs) feeds[i.name] = tf.tensor(fromNpy(${load('i.file')}), i.shape, i.type);
const outs = [].concat(model.execute(feeds, r.outputs.map((o) => o.name)));
const got = await Promise.all(outs.map(async (t) => Array.from(await t.data(), Number)));`;
}

function report(lang: 'node' | 'page'): string {
  const out = lang === 'node' ? 'console.log' : 'lines.push';
  return `let worst = 0;
for (const [k, o] of r.outputs.entries()) {
  const m = nrmse(got[k], Array.from(fromNpy(${lang === 'node' ? "load(o.expected)" : 'await load(o.expected)'}), Number));
  worst = Math.max(worst, m.nrmse);
  ${out}(\`\${o.name}: nrmse \${m.nrmse.toPrecision(4)}, max |diff| \${m.max.toPrecision(4)} (tolerance nrmse \${r.tolerance})\`);
}`;
}

function nodeScript(d: ReproDescription, pkg: string, backend: string): string {
  const imports = d.runtime === 'onnx'
    ? `import * as ort from '${pkg}';`
    : `import * as tf from '@tensorflow/tfjs';${backend === 'wasm' ? "\nimport '@tensorflow/tfjs-backend-wasm';" : ''}`;
  return `// Runs the one-node model on ${pkg} (${backend}) with the recorded inputs and compares with expected/.
// node run.mjs  →  exit 1 and "REPRODUCED" when the error is there.
import { readFileSync } from 'node:fs';
${imports}
const load = (f) => { const b = readFileSync(new URL(f, import.meta.url)); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); };
const r = JSON.parse(new TextDecoder().decode(load('repro.json')));
${NPY_READER}
${runBody(d.runtime, backend, (f) => (f.includes('.') && !f.startsWith('i.') ? `load('${f}')` : `load(${f})`))}
${report('node')}
console.log(worst > r.tolerance ? \`REPRODUCED: \${r.node} (\${r.op}) differs from the expected output\` : 'not reproduced: within tolerance');
process.exitCode = worst > r.tolerance ? 1 : 0;
`;
}

/** TF.js flags the page sets before choosing the backend, as the edge ran: half-float textures, packing. */
function precisionFlags(d: ReproDescription): Record<string, boolean | number> {
  if (d.runtime !== 'tfjs') return {};
  const out: Record<string, boolean | number> = {};
  for (const [k, v] of Object.entries(d.edge.header.environment.flags ?? {})) {
    if (/^WEBGL_(FORCE_F16_TEXTURES|PACK|RENDER_FLOAT32_ENABLED)$/.test(k) && (typeof v === 'boolean' || typeof v === 'number')) out[k] = v;
  }
  return out;
}

function pageHtml(d: ReproDescription, pkg: { name: string; version: string }, backend: string): string {
  const cdn = (p: string, file: string): string => `https://cdn.jsdelivr.net/npm/${p}@${pkg.version}/dist/${file}`;
  // TF.js: the packages' own UMD builds (a global \`tf\`), the way TF.js documents script tags; the
  // backend packages find their wasm beside them.
  const classic = d.runtime === 'onnx' ? [] : [
    cdn('@tensorflow/tfjs', 'tf.min.js'),
    ...(backend === 'wasm' ? [cdn('@tensorflow/tfjs-backend-wasm', 'tf-backend-wasm.min.js')] : []),
    ...(backend === 'webgpu' ? [cdn('@tensorflow/tfjs-backend-webgpu', 'tf-backend-webgpu.min.js')] : []),
  ];
  const src = d.runtime === 'onnx'
    ? `import * as ort from '${cdn('onnxruntime-web', backend === 'webgpu' ? 'ort.webgpu.min.mjs' : 'ort.wasm.min.mjs')}';`
    : `const tf = window.tf;${backend === 'wasm' ? `\ntf.wasm.setWasmPaths('${cdn('@tensorflow/tfjs-backend-wasm', '')}');` : ''}`;
  return `<!doctype html>
<meta charset="utf-8"><title>repro: ${d.node.replace(/[<&]/g, '')}</title>
<p>Serve this folder over http (e.g. <code>npx http-server .</code> or <code>python3 -m http.server</code>) and open this page.</p>
<pre id="result">running…</pre>
${classic.map((u) => `<script src="${u}"></script>\n`).join('')}<script type="module">
${src}
const el = document.getElementById('result');
const load = async (f) => (await fetch(f)).arrayBuffer();
const lines = [];
${NPY_READER}
try {
  const r = JSON.parse(new TextDecoder().decode(await load('repro.json')));
${runBody(d.runtime, backend, (f) => (f.includes('.') && !f.startsWith('i.') ? `await load('${f}')` : `await load(${f})`), precisionFlags(d)).replace(/^/gm, '  ')}
${report('page').replace(/^/gm, '  ')}
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

function readme(d: ReproDescription, pkg: { name: string; version: string }, backend: string, modelFiles: string): string {
  const e = d.edge.header.environment;
  const metric = (m: TensorMetrics | null): string => (m ? `nrmse ${m.nrmse.toPrecision(4)}, max |diff| ${m.maxAbs.toPrecision(4)}, cosine ${m.cosine.toFixed(6)}` : 'not comparable');
  const rerun = 'skipped' in d.rerun ? `not re-run where the bundle was made (${d.rerun.skipped})` : d.rerun.metrics.map((m, k) => `- ${d.outputs[k]!.name}: ${metric(m)}`).join('\n');
  const flags = Object.entries(e.flags ?? {}).filter(([k]) => /F16|FLOAT|PACK|PRECISION/i.test(k)).map(([k, v]) => `${k}=${String(v)}`);
  return `# ${d.op} node \`${d.node}\` computes a different output on ${pkg.name} ${pkg.version} (${backend})

A one-node model (${modelFiles}) cut out of the deployed model, fed the inputs the deployment
recorded (\`inputs/\`). \`expected/\` is the same node run alone on ${d.expectedBy} on the same
inputs; \`edge/\` is what the deployment produced.

## Run it
- Node: \`npm install\` then \`node run.mjs\` (exit 1 and \`REPRODUCED\` when the error is there).
- Browser: serve this folder over http and open \`index.html\` (${pkg.name} ${pkg.version} from the CDN, backend \`${backend}\`${flags.length ? `, flags ${flags.join(', ')}` : ''}).

## Measured
Deployment vs expected (tolerance nrmse ${d.tolerance}):
${d.recorded.map((m, k) => `- ${d.outputs[k]!.name}: ${metric(m)}`).join('\n')}

This bundle's model where it was made:
${rerun}

## The node
- op: ${d.op}${d.attributes.length ? `\n- attributes: ${d.attributes.join(', ')}` : ''}
- inputs: ${d.inputs.map((i) => `${i.name} ${i.type}[${i.shape.join(',')}]`).join(', ')}
- outputs: ${d.outputs.map((o) => o.name).join(', ')}

## Environment of the deployment
- runtime: ${d.edge.header.runtime.name} ${d.edge.header.runtime.version}, backend ${d.edge.header.runtime.backend}
- ${e.kind === 'browser' ? `user agent: ${e.userAgent}` : `platform: ${e.platform}`}
- cores: ${e.hardwareConcurrency}${e.floatPrecision ? `, float precision ${e.floatPrecision} bit` : ''}${e.webgpu ? `\n- WebGPU: ${e.webgpu.vendor} ${e.webgpu.architecture ?? ''}` : ''}${e.webgl ? `\n- WebGL: ${e.webgl.renderer}` : ''}
- recorded: ${d.edge.header.createdAt}

Made with exray (not needed to run this).
`;
}

/**
 * Every file of the bundle but the model, by relative path. `modelFiles` names the model's files in
 * the README (`model.onnx`, or `model.json` + `weights.bin`).
 */
export function reproFiles(d: ReproDescription, modelFiles: string): Map<string, string | Uint8Array> {
  const files = new Map<string, string | Uint8Array>();
  const pkg = reproPackage(d.edge);
  const edgeBackend = d.edge.header.runtime.backend;
  // The Node script runs where Node can: TF.js webgl/webgpu → wasm, onnxruntime-node → its cpu EP.
  const nodeBackend = d.runtime === 'tfjs' ? (edgeBackend === 'cpu' ? 'cpu' : 'wasm') : pkg.name === 'onnxruntime-node' ? 'cpu' : 'wasm';
  const pageBackend = d.runtime === 'onnx' ? (edgeBackend === 'webgpu' ? 'webgpu' : 'wasm') : edgeBackend;
  const inputs = d.inputs.map((t, k) => ({ name: t.name, type: t.type, shape: t.shape, file: `inputs/${k}_${safeName(t.name)}.npy` }));
  const outputs = d.outputs.map((o, k) => ({ name: o.name, expected: `expected/${k}_${safeName(o.name)}.npy`, edge: `edge/${k}_${safeName(o.name)}.npy` }));
  d.inputs.forEach((t, k) => files.set(inputs[k]!.file, encodeNpy(t.data, t.shape, t.type)));
  d.outputs.forEach((o, k) => {
    if (o.expected) files.set(outputs[k]!.expected, encodeNpy(o.expected, o.shape, 'float32'));
    if (o.edge) files.set(outputs[k]!.edge, encodeNpy(o.edge, o.shape, 'float32'));
  });
  files.set('repro.json', `${JSON.stringify({ node: d.node, op: d.op, tolerance: d.tolerance, inputs, outputs, runtime: d.edge.header.runtime }, null, 2)}\n`);
  files.set('index.html', pageHtml(d, pkg, pageBackend));
  files.set('run.mjs', nodeScript(d, pkg.name, nodeBackend));
  const deps: Record<string, string> = { [pkg.name]: pkg.version };
  if (d.runtime === 'tfjs' && nodeBackend === 'wasm') deps['@tensorflow/tfjs-backend-wasm'] = pkg.version;
  files.set('package.json', `${JSON.stringify({ name: safeName(`repro-${d.node}`).toLowerCase().slice(0, 200), private: true, type: 'module', scripts: { start: 'node run.mjs' }, dependencies: deps }, null, 2)}\n`);
  files.set('README.md', readme(d, pkg, pageBackend, modelFiles));
  return files;
}

/** The own-error tolerance of a bundle: the float32 preset's nrmse, as the diagnosis's replay table marks it. */
export function reproTolerance(): number {
  return globalTolerance(undefined).nrmse ?? 1e-3;
}

export function metricsOf(got: ArrayLike<number> | null | undefined, exp: BlobData | null | undefined): TensorMetrics | null {
  return got && exp && got.length === exp.length ? tensorMetrics(Float32Array.from(got) as BlobData, exp) : null;
}

/** The edge's recorded outputs of `node` vs the expected ones (the node replayed alone on the reference). */
export interface RecordedError {
  recorded: (TensorMetrics | null)[];
  /** Largest nrmse over the outputs. */
  worst: number;
  tolerance: number;
  /** The edge's recorded outputs, per output. */
  edgeOutputs: (BlobData | null)[];
}

/**
 * The node's own error as the edge recorded it. Throws (naming `edgeFile`) when it is within
 * tolerance and not `force`d: a bundle of an inherited error reproduces nothing.
 */
export function recordedError(edge: Trace, edgeFile: string, node: string, expected: readonly (BlobData | null)[], force = false): RecordedError {
  const record = edge.header.nodes.find((n) => n.name === node);
  if (!record) throw new ExrayInputError(edgeFile, `no node "${node}" in the trace`);
  const edgeOutputs = record.outputs.map((t) => (t.blob ? (edge.blobs.get(t.blob.id) ?? null) : null));
  const recorded = record.outputs.map((_, k) => metricsOf(edgeOutputs[k], expected[k]));
  const tolerance = reproTolerance();
  const worst = Math.max(0, ...recorded.map((m) => m?.nrmse ?? 0));
  if (!force && worst <= tolerance) {
    throw new ExrayInputError(edgeFile, `node ${node}'s own error (nrmse ${worst.toPrecision(3)} on its recorded inputs) is within tolerance ${tolerance}: nothing to reproduce (its error is inherited; pass --force to write the bundle anyway)`);
  }
  return { recorded, worst, tolerance, edgeOutputs };
}

/** Every file of a bundle, the model included, by relative path. */
export function reproBundleFiles(a: {
  edge: Trace;
  node: string;
  cut: ReproCut & { runtime: ReproRuntime };
  expected: readonly (BlobData | null)[];
  expectedBy: string;
  error: RecordedError;
  rerun: ReproDescription['rerun'];
}): Map<string, string | Uint8Array> {
  const record = a.edge.header.nodes.find((n) => n.name === a.node);
  const outputs: ReproOutput[] = a.cut.outputNames.map((name, k) => ({ name, shape: record?.outputs[k]?.shape ?? [], expected: a.expected[k] ?? null, edge: a.error.edgeOutputs[k] ?? null }));
  const description: ReproDescription = {
    runtime: a.cut.runtime,
    edge: a.edge,
    node: a.node,
    op: a.cut.op,
    attributes: a.cut.attributes,
    inputs: a.cut.inputs,
    outputs,
    recorded: a.error.recorded,
    rerun: a.rerun,
    tolerance: a.error.tolerance,
    expectedBy: a.expectedBy,
  };
  return new Map([...a.cut.modelFiles, ...reproFiles(description, a.cut.modelDescription)]);
}
