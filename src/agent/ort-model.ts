/**
 * The agent's onnxruntime side, part 1: which onnxruntime the app passed, and what model a session was created from, as
 * `InferenceSession.create` was given it (bytes, or a URL / file path), and the model's identity
 * (the sha256 of the `.onnx` bytes) and upload files.
 *
 * Bytes given to `create` are kept by reference, not copied: a copy per session would double the
 * model's memory for the session's lifetime, and the app rarely writes to its model buffer after
 * `create`. The one exception is onnxruntime-web in proxy mode (`env.wasm.proxy`), which TRANSFERS the
 * buffer to its worker (the app's array is detached afterwards): there the bytes are copied once, before
 * `create` sees them. A URL or path is read again only when a capture needs the bytes: `fetch` in a
 * browser, Node's fs (from `process.getBuiltinModule`: this file ends up in browser bundles) in Node.
 *
 * Pure of onnxruntime: nothing here imports it.
 */
import { sha256Hex } from '../trace/sha256.ts';
import type { OrtModule, OrtRuntimeName } from '../instrument/ort/ort-api.ts';
import { MAX_AGENT_UPLOAD_BYTES, type ModelFiles } from './model-files.ts';

/** An onnxruntime namespace (`import * as ort from 'onnxruntime-web'` / `-node`, or the `ort` global). */
export function isOrtApi(x: unknown): x is OrtModule {
  if ((typeof x !== 'object' && typeof x !== 'function') || x === null) return false;
  const o = x as { InferenceSession?: unknown; Tensor?: unknown };
  return typeof o.InferenceSession === 'function' && typeof (o.InferenceSession as { create?: unknown }).create === 'function' && typeof o.Tensor === 'function';
}

/** Which package the namespace is: onnxruntime-node exports `listSupportedBackends` and sets `env.versions.node`. */
export function runtimeOf(ort: OrtModule): OrtRuntimeName {
  if (typeof (ort as { listSupportedBackends?: unknown }).listSupportedBackends === 'function') return 'onnxruntime-node';
  const v = (ort.env?.versions ?? {}) as Record<string, string | undefined>;
  return v['node'] !== undefined && v['web'] === undefined ? 'onnxruntime-node' : 'onnxruntime-web';
}

/** What `InferenceSession.create` was given. */
export type ModelSource =
  | { kind: 'bytes'; bytes: Uint8Array; copied: boolean }
  | { kind: 'location'; location: string };

/**
 * The model `create(...)`'s arguments name (the four overloads of onnxruntime-common's
 * `InferenceSession.create`), or null when they are not one exray understands (create then fails in
 * onnxruntime itself, or it is a newer overload). `copy`: take a private copy of given bytes.
 */
export function modelSourceOf(args: readonly unknown[], copy: boolean): ModelSource | null {
  const a0 = args[0];
  if (typeof a0 === 'string') return { kind: 'location', location: a0 };
  let bytes: Uint8Array | null = null;
  if (a0 instanceof Uint8Array) bytes = a0;
  else if (a0 instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && a0 instanceof SharedArrayBuffer)) {
    const buf = a0 as ArrayBuffer;
    const off = typeof args[1] === 'number' ? args[1] : 0;
    const len = typeof args[1] === 'number' ? (typeof args[2] === 'number' ? args[2] : buf.byteLength - off) : buf.byteLength;
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len <= 0 || off + len > buf.byteLength) return null;
    bytes = new Uint8Array(buf, off, len);
  } else if (a0 !== null && typeof a0 === 'object' && ArrayBuffer.isView(a0)) {
    // Another typed array over the model (a Buffer is a Uint8Array already): onnxruntime rejects it,
    // recorded anyway, create's own error reaches the app.
    bytes = new Uint8Array(a0.buffer, a0.byteOffset, a0.byteLength);
  }
  if (!bytes) return null;
  return { kind: 'bytes', bytes: copy ? bytes.slice() : bytes, copied: copy };
}

/** The session options `create` was given (a shallow copy: the app may reuse its object). */
export function sessionOptionsOf(args: readonly unknown[]): Record<string, unknown> {
  const o = args.find((a, i) => i > 0 && a !== null && typeof a === 'object' && !ArrayBuffer.isView(a));
  return o ? { ...(o as Record<string, unknown>) } : {};
}

/**
 * Session options never copied to exray's own session: they write files (profiles, the optimised model
 * over the app's own file), keep outputs on the GPU, or demand GPU-located inputs and outputs (graph capture).
 */
const NOT_FOR_CAPTURE = ['preferredOutputLocation', 'enableGraphCapture', 'enableProfiling', 'profileFilePrefix', 'optimizedModelFilePath'];

/** The app's session options, for exray's capture session: same execution providers and settings. */
export function captureSessionOptions(options: Record<string, unknown>): Record<string, unknown> {
  const o = { ...options };
  for (const k of NOT_FOR_CAPTURE) delete o[k];
  return o;
}

/** The execution provider a session asked for first (`cpu` / `wasm` when it named none). */
export function executionProviderOf(options: Record<string, unknown>, fallback: string): string {
  const eps = options['executionProviders'];
  if (Array.isArray(eps) && eps.length > 0) {
    const first: unknown = eps[0];
    if (typeof first === 'string') return first;
    if (first !== null && typeof first === 'object' && typeof (first as { name?: unknown }).name === 'string') return (first as { name: string }).name;
  }
  return fallback;
}

/** A model name from where it was loaded: the file name without `.onnx`, or its folder for `model.onnx`. */
export function modelNameOf(source: ModelSource | null): string {
  if (!source || source.kind !== 'location') return 'model';
  const parts = source.location.split(/[?#]/)[0]!.split(/[\\/]/).filter(Boolean);
  const file = parts[parts.length - 1] ?? '';
  const dir = parts[parts.length - 2];
  let base = file.replace(/\.(onnx|ort)$/i, '');
  if (/^model$/i.test(base) && dir && !/^[a-z]+:$/i.test(dir)) base = dir;
  return base.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'model';
}

interface NodeFsPromises {
  promises: { readFile(p: string | URL): Promise<Uint8Array> };
}

function nodeFs(): NodeFsPromises | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (p?.getBuiltinModule?.('node:fs') as NodeFsPromises | undefined) ?? null;
  } catch {
    return null;
  }
}

/** The bytes at a location `create` was given: fetched (URLs, browsers) or read from disk (Node paths). */
export async function readModelLocation(location: string): Promise<Uint8Array> {
  const fs = nodeFs();
  const isUrl = /^(https?|blob|data):/i.test(location);
  if (fs && !isUrl) {
    const b = await fs.promises.readFile(/^file:/i.test(location) ? new URL(location) : location);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  const url = new URL(location, base).href;
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The model's bytes, as `create` was given them or read again from where it loaded them. */
export async function modelBytesOf(source: ModelSource): Promise<{ bytes: Uint8Array; how: string }> {
  if (source.kind === 'location') {
    return { bytes: await readModelLocation(source.location), how: `the .onnx file read again from ${source.location}, where InferenceSession.create loaded it` };
  }
  if (source.bytes.byteLength === 0) throw new Error('the model bytes given to InferenceSession.create are gone (their buffer was transferred or detached)');
  return { bytes: source.bytes, how: `the .onnx bytes the app gave InferenceSession.create${source.copied ? ' (copied: onnxruntime-web proxy mode transfers them)' : ''}` };
}

/** Identity and upload files of an `.onnx` model. Over the upload limit: identified, no files. */
export async function onnxModelFiles(name: string, bytes: Uint8Array, how: string): Promise<ModelFiles> {
  const sha256 = await sha256Hex(bytes);
  if (bytes.byteLength > MAX_AGENT_UPLOAD_BYTES) {
    return { name, format: 'onnx', sha256, files: [], how: `${how}; over ${MAX_AGENT_UPLOAD_BYTES / 2 ** 20} MiB: identified by its sha256, not uploaded` };
  }
  return { name, format: 'onnx', sha256, files: [{ name: 'model.onnx', bytes }], how };
}
