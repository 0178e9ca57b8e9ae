/**
 * Assertions over a trace (ML-EXray's, made robust): built-ins that run on every trace, and user
 * assertions in a few lines:
 *
 *   export default defineAssertion({
 *     id: 'logits-bounded',
 *     description: 'final logits stay within ±50',
 *     check: (trace) => {
 *       const s = trace.header.outputs[0]?.stats;
 *       return { ok: !!s && Math.max(Math.abs(s.min), Math.abs(s.max)) <= 50, detail: `range [${s?.min}, ${s?.max}]` };
 *     },
 *   });
 *
 * `check(trace, ctx)` returns `{ ok, detail }`, a boolean, or `null` (not applicable: skipped).
 * An exception counts as a failure naming it. Pure: no DOM, no Node.
 */
import type { Comparison } from '../compare/index.ts';
import { blobStats } from '../compare/index.ts';
import type { BlobData, NamedTensor, PreprocessSpec, TensorStats, Trace } from '../trace/types.ts';
import { niceRange } from './fit.ts';
import type { AssertionResult, InputFit } from './types.ts';

/** What the card says about a final output (all optional). */
export interface OutputInfo {
  name: string;
  meaning?: string;
  labels?: string[];
  decoding?: string;
}

/** What an assertion may use besides the trace. Every field is optional. */
export interface AssertionContext {
  /** The card's pre-processing of the (image) input. */
  spec?: PreprocessSpec | null;
  /** The card's outputs. */
  outputs?: OutputInfo[];
  /** The input search against the original photo (`exray diagnose --image`). */
  input?: InputFit | null;
  /** The comparison with the reference. */
  comparison?: Comparison | null;
}

export interface AssertionOutcome {
  ok: boolean;
  detail?: string;
}

export interface Assertion {
  id: string;
  description: string;
  check(trace: Trace, ctx: AssertionContext): AssertionOutcome | boolean | null | undefined;
}

const ID = /^[a-z0-9][a-z0-9._-]*$/i;

/** Declare an assertion (validates its shape; returns it unchanged). */
export function defineAssertion(a: Assertion): Assertion {
  if (!a || typeof a !== 'object') throw new TypeError('defineAssertion: expected { id, description, check }');
  if (typeof a.id !== 'string' || !ID.test(a.id)) throw new TypeError(`defineAssertion: id must be letters, digits, ".", "_" or "-", got ${JSON.stringify(a.id)}`);
  if (typeof a.description !== 'string' || a.description === '') throw new TypeError(`defineAssertion(${a.id}): description must be a non-empty string`);
  if (typeof a.check !== 'function') throw new TypeError(`defineAssertion(${a.id}): check must be a function`);
  return a;
}

export function isAssertion(x: unknown): x is Assertion {
  const a = x as Partial<Assertion> | null;
  return typeof a === 'object' && a !== null && typeof a.id === 'string' && typeof a.description === 'string' && typeof a.check === 'function';
}

/** A node output's (or input / final output's) values, when the trace holds them. */
export function tensorValues(trace: Trace, name: string, outputIndex = 0): BlobData | null {
  const node = trace.header.nodes.find((n) => n.name === name);
  const rec = node ? node.outputs[outputIndex] : [...trace.header.outputs, ...trace.header.input.tensors].find((t) => t.name === name);
  const id = rec?.blob?.id;
  return id ? (trace.blobs.get(id) ?? null) : null;
}

function statsOf(trace: Trace, t: { stats?: TensorStats; blob?: { id: string } }): TensorStats | null {
  if (t.stats) return t.stats;
  const data = t.blob ? trace.blobs.get(t.blob.id) : undefined;
  return data ? blobStats(data) : null;
}

/** The value range a [0, 255] pixel maps to under a spec, over all channels. */
export function specValueRange(spec: PreprocessSpec): [number, number] {
  const C = spec.channels === 'grayscale' ? 1 : 3;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < C; c++) {
    const m = spec.mean.length === 1 ? spec.mean[0]! : (spec.mean[c] ?? 0);
    const s = spec.std.length === 1 ? spec.std[0]! : (spec.std[c] ?? 1);
    const a = (0 * spec.scale - m) / s;
    const b = (255 * spec.scale - m) / s;
    lo = Math.min(lo, a, b);
    hi = Math.max(hi, a, b);
  }
  if (spec.dtype !== 'float32') {
    lo = Math.trunc(lo);
    hi = Math.trunc(hi);
    if (spec.dtype === 'uint8') {
      lo = Math.max(0, lo);
      hi = Math.min(255, hi);
    }
  }
  return [lo, hi];
}

function imageInput(trace: Trace): NamedTensor | null {
  return trace.header.input.tensors[0] ?? null;
}

function specOf(trace: Trace, ctx: AssertionContext): PreprocessSpec | null {
  return trace.header.input.preprocess ?? ctx.spec ?? null;
}

const inputDType = defineAssertion({
  id: 'input-dtype',
  description: "the input tensor's dtype is the card's",
  check(trace, ctx) {
    const spec = specOf(trace, ctx);
    const t = imageInput(trace);
    if (!spec || !t) return null;
    const want = spec.dtype === 'float32' ? 'float32' : 'int32';
    const integral = t.dtype === 'int32' || t.dtype === 'uint8' || t.dtype === 'int8' || t.dtype === 'int64' || t.blob?.encoding === 'int32';
    const ok = want === 'float32' ? !integral : integral;
    return { ok, detail: ok ? `${t.dtype} as the card says (${spec.dtype})` : `input is ${t.dtype}, the card says ${spec.dtype}` };
  },
});

const inputRange = defineAssertion({
  id: 'input-range',
  description: 'input values lie in (and use) the range the card maps pixels 0..255 to',
  check(trace, ctx) {
    const spec = specOf(trace, ctx);
    const t = imageInput(trace);
    if (!spec || !t) return null;
    const s = statsOf(trace, t);
    if (!s || s.count === 0) return null;
    const [lo, hi] = specValueRange(spec);
    const span = Math.max(1e-12, hi - lo);
    const slack = 0.02 * span;
    const got = niceRange(s.min, s.max);
    const want = niceRange(lo, hi);
    if (s.min < lo - slack || s.max > hi + slack) return { ok: false, detail: `values ${got} outside the card's range ${want}` };
    if (s.max - s.min < 0.05 * span) return { ok: false, detail: `values ${got} use under 5% of the card's range ${want}: scaled twice, or a blank image?` };
    return { ok: true, detail: `values ${got} within the card's range ${want}` };
  },
});

const channelOrder = defineAssertion({
  id: 'channel-order',
  description: "channel statistics fit the card's channel order (fitted against the original photo)",
  check(_trace, ctx) {
    if (!ctx.input) return null;
    const c = ctx.input.causes.find((x) => x.code === 'channel-order');
    return c ? { ok: false, detail: c.detail } : { ok: true, detail: 'the card\'s channel order explains the input best' };
  },
});

const exifOrientation = defineAssertion({
  id: 'exif-orientation',
  description: 'the EXIF orientation of the source photo was applied',
  check(trace, ctx) {
    const o = trace.header.input.source?.exifOrientation;
    if (!ctx.input || o === undefined) return null;
    const c = ctx.input.causes.find((x) => x.code === 'orientation' || (x.code === 'layout' && x.evidence?.['transposed'] === true));
    if (c) return { ok: false, detail: c.detail };
    return { ok: true, detail: o === 1 ? 'the photo has no EXIF rotation and the input is upright' : `EXIF orientation ${o} handled` };
  },
});

const finite = defineAssertion({
  id: 'finite',
  description: 'no NaN or Inf in the input, any node output or any final output',
  check(trace) {
    const bad: string[] = [];
    let total = 0;
    const visit = (where: string, t: { stats?: TensorStats; blob?: { id: string } }): void => {
      const s = statsOf(trace, t);
      if (!s) return;
      const n = s.nanCount + s.infCount;
      if (n > 0) {
        total += n;
        if (bad.length < 3) bad.push(`${where} (${s.nanCount} NaN, ${s.infCount} Inf)`);
      }
    };
    for (const t of trace.header.input.tensors) visit(`input ${t.name}`, t);
    for (const n of trace.header.nodes) n.outputs.forEach((o, k) => visit(n.outputs.length > 1 ? `${n.name}:${k}` : n.name, o));
    for (const t of trace.header.outputs) visit(`output ${t.name}`, t);
    return total === 0 ? { ok: true, detail: 'all values finite' } : { ok: false, detail: `${total} non-finite values, first at ${bad.join(', ')}` };
  },
});

function producerOp(trace: Trace, output: string): string | null {
  const base = output.replace(/:\d+$/, '');
  return trace.header.nodes.find((n) => n.name === base)?.op ?? null;
}

const outputPlausible = defineAssertion({
  id: 'output-plausible',
  description: 'final outputs are plausible: probabilities in [0, 1], softmax rows summing to 1, classifier scores not constant',
  check(trace, ctx) {
    const problems: string[] = [];
    const checked: string[] = [];
    for (const out of trace.header.outputs) {
      const data = out.blob ? trace.blobs.get(out.blob.id) : undefined;
      if (!data || data.length === 0) continue;
      const info = ctx.outputs?.find((o) => o.name === out.name) ?? (trace.header.outputs.length === 1 ? ctx.outputs?.[0] : undefined);
      const text = `${info?.decoding ?? ''} ${producerOp(trace, out.name) ?? ''}`.toLowerCase();
      const softmax = /softmax|sum to 1|sums to 1/.test(text);
      const probabilities = softmax || /sigmoid|probabilit/.test(text);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < data.length; i++) {
        const v = data[i] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (probabilities) {
        checked.push(`${out.name} probabilities`);
        if (lo < -1e-4 || hi > 1 + 1e-4) problems.push(`${out.name}: values ${niceRange(lo, hi)} are not probabilities`);
      }
      if (softmax) {
        const last = out.shape[out.shape.length - 1] ?? data.length;
        for (let r = 0; r * last < data.length; r++) {
          let sum = 0;
          for (let j = 0; j < last; j++) sum += data[r * last + j] as number;
          if (!(Math.abs(sum - 1) <= 1e-3)) {
            problems.push(`${out.name}: softmax row ${r} sums to ${Number(sum.toPrecision(6))}`);
            break;
          }
        }
      }
      if (info?.meaning === 'classification' && data.length > 1 && hi - lo === 0) problems.push(`${out.name}: every class has the same score ${lo}`);
    }
    if (problems.length > 0) return { ok: false, detail: problems.join('; ') };
    return checked.length > 0 ? { ok: true, detail: `${checked.join(', ')} plausible` } : null;
  },
});

const inputShape = defineAssertion({
  id: 'input-shape',
  description: "the input tensors' shapes fit the model's declared inputs",
  check(trace) {
    const declared = trace.header.model.inputs;
    if (declared.length === 0) return null;
    for (const spec of declared) {
      const t = trace.header.input.tensors.find((x) => x.name === spec.name) ?? (declared.length === 1 ? trace.header.input.tensors[0] : undefined);
      if (!t) return { ok: false, detail: `no input tensor for ${spec.name}` };
      if (spec.shape.length === 0) continue;
      const ok = spec.shape.length === t.shape.length && spec.shape.every((d, i) => d === null || d === t.shape[i]);
      if (!ok) return { ok: false, detail: `${t.name} is [${t.shape.join(', ')}], the model declares [${spec.shape.map((d) => d ?? '?').join(', ')}]` };
    }
    return { ok: true, detail: 'shapes as declared' };
  },
});

/** The built-in assertions, in the order they are reported. */
export const BUILTIN_ASSERTIONS: readonly Assertion[] = [inputShape, inputDType, inputRange, channelOrder, exifOrientation, finite, outputPlausible];

/** Run the built-ins (unless `builtins: false`) and the given user assertions. */
export function runAssertions(trace: Trace, ctx: AssertionContext = {}, extra: readonly Assertion[] = [], options: { builtins?: boolean } = {}): AssertionResult[] {
  const list: [Assertion, boolean][] = [...(options.builtins === false ? [] : BUILTIN_ASSERTIONS.map((a): [Assertion, boolean] => [a, true])), ...extra.map((a): [Assertion, boolean] => [a, false])];
  return list.map(([a, builtin]) => {
    try {
      const r = a.check(trace, ctx);
      if (r === null || r === undefined) return { id: a.id, description: a.description, ok: null, detail: 'not applicable', builtin };
      if (typeof r === 'boolean') return { id: a.id, description: a.description, ok: r, detail: r ? 'ok' : 'failed', builtin };
      return { id: a.id, description: a.description, ok: Boolean(r.ok), detail: r.detail ?? (r.ok ? 'ok' : 'failed'), builtin };
    } catch (e) {
      return { id: a.id, description: a.description, ok: false, detail: `threw: ${e instanceof Error ? e.message : String(e)}`, builtin };
    }
  });
}

/** Failed assertions (ok === false). */
export function failedAssertions(results: readonly AssertionResult[]): AssertionResult[] {
  return results.filter((r) => r.ok === false);
}
