/**
 * The agent's onnxruntime side (onnxruntime-web in a page or in Node, onnxruntime-node): patches, at
 * the class level, the app's own `InferenceSession.create` (static) and `InferenceSession.prototype.run`
 * (and `release`), so every session any part of the app creates passes through here.
 *
 * - `create`: remembers, per session, what the model was (the bytes given, kept by reference; or the
 *   URL / path, read again only when a capture needs it: ort-model.ts) and the session options. The
 *   app gets the promise's own session.
 * - `run`, timing only: the original call, a clock read before and after its promise resolves.
 * - `run`, captured: the app's feeds are copied synchronously at the call (CPU tensors only: a
 *   GPU-located feed makes the inference timing-only), the original run is called exactly as the app
 *   called it and its results are copied when it resolves; the app gets those very results. Later
 *   (the agent's `build`), a second session created once per app session from the same model bytes
 *   with every node output exposed, same execution providers and options, runs on the copied feeds:
 *   its outputs are the trace's node values (ort-capture.ts). When the execution provider refuses
 *   that rewritten model the capture keeps the inputs and outputs, and says so.
 *   On onnxruntime-web that run and the app's runs take turns, never two in flight (ort-run-gate.ts).
 * - `release`: exray's capture session for that session is released too (once no capture of it is
 *   pending; also when the app's session is garbage-collected unreleased). `restore()` puts the three
 *   methods back and releases every capture session (after the captures still pending).
 *
 * Nothing exray does is thrown into the app: its problems go to `host.problem`; the app's own errors
 * (create / run rejections) reach it unchanged. Nothing here imports onnxruntime: it works on the
 * namespace the app passed (a second copy would be a second runtime, with its own env and backends).
 */
import type { OrtModule, OrtRuntimeName, OrtSessionOptions, OrtTensor } from '../instrument/ort/ort-api.ts';
import { ortVersion } from '../instrument/ort/ort-api.ts';
import { collectOrtEnvironment } from '../instrument/ort/environment.ts';
import type { TensorValues } from '../instrument/ort/tensors.ts';
import type { ModelFiles } from './model-files.ts';
import type { AgentHost, CapturedRun } from './types.ts';
import { assembleRun, copyFeeds, copyResult, ortFeeds, type FeedCopy } from './ort-capture.ts';
import { prepareCaptureModel, runCaptureModel, type CaptureModel } from './ort-capture-model.ts';
import { RunGate } from './ort-run-gate.ts';
import {
  captureSessionOptions,
  executionProviderOf,
  modelBytesOf,
  modelNameOf,
  modelSourceOf,
  onnxModelFiles,
  runtimeOf,
  sessionOptionsOf,
  type ModelSource,
} from './ort-model.ts';

export type { OrtModule } from '../instrument/ort/ort-api.ts';
export { isOrtApi } from './ort-model.ts';

type Fn = (this: unknown, ...args: unknown[]) => unknown;

interface SessionInfo {
  /** What create was given; null once the session was released (or when create's arguments were not understood). */
  source: ModelSource | null;
  options: Record<string, unknown>;
  name: string;
  /** The model's bytes and identity, once a capture needed them. */
  files: Promise<ModelBytes> | null;
  capture: Promise<CaptureModel> | null;
  /** Captures handed to the host and not yet built or released. */
  outstanding: number;
  /** The app released the session, or the patch was restored: drop the capture session when idle. */
  dropWanted: boolean;
}

interface ModelBytes {
  bytes: Uint8Array;
  files: ModelFiles;
}

interface Patched {
  target: Record<string, unknown>;
  name: string;
  orig: Fn;
  wrapped: Fn;
  own: boolean;
}

function isThenable(x: unknown): x is Promise<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Patches the app's onnxruntime; `restore()` puts every method back. */
export class OrtPatch {
  private readonly patched: Patched[] = [];
  private readonly sessions = new WeakMap<object, SessionInfo>();
  /** Sessions exray created (capture sessions): their runs are never sampled. */
  private readonly own = new WeakSet<object>();
  /** Infos holding a capture session or a pending capture (released on restore). */
  private readonly live = new Set<SessionInfo>();
  private readonly runtime: OrtRuntimeName;
  private readonly origCreate: Fn | null = null;
  private readonly origRun: Fn | null = null;
  private readonly origRelease: Fn | null = null;
  private restored = false;
  /** onnxruntime-web: the app's runs and exray's capture runs take turns (ort-run-gate.ts says why). */
  private readonly gate: RunGate | null;
  /** An app session collected without `release()`: its capture session is released all the same. */
  private readonly collected =
    typeof FinalizationRegistry === 'function'
      ? new FinalizationRegistry<SessionInfo>((info) => {
          info.dropWanted = true;
          this.dropWhenIdle(info);
        })
      : null;

  constructor(
    private readonly ort: OrtModule,
    private readonly host: AgentHost,
  ) {
    this.runtime = runtimeOf(ort);
    this.gate = this.runtime === 'onnxruntime-web' ? new RunGate() : null;
    const cls = ort.InferenceSession as unknown as Record<string, unknown> & { prototype?: Record<string, unknown> };
    const proto = cls.prototype;
    this.origCreate = this.patch(cls, 'create', (that, orig, args) => this.create(that, orig, args));
    if (proto) {
      this.origRun = this.patch(proto, 'run', (that, orig, args) => this.run(that, orig, args));
      this.origRelease = this.patch(proto, 'release', (that, orig, args) => this.release(that, orig, args));
    }
  }

  restore(): void {
    if (this.restored) return;
    this.restored = true;
    for (const p of this.patched.splice(0).reverse()) {
      try {
        // Only put ours back if nobody patched over us since (their wrapper then calls ours, which passes through).
        if (p.target[p.name] !== p.wrapped) continue;
        if (p.own) p.target[p.name] = p.orig;
        else delete p.target[p.name];
      } catch (e) {
        this.host.problem('restoring onnxruntime', e);
      }
    }
    for (const info of [...this.live]) {
      info.dropWanted = true;
      this.dropWhenIdle(info);
    }
  }

  /** Replace `target[name]` by a wrapper of it; the original, or null when it cannot be patched. */
  private patch(target: Record<string, unknown>, name: string, handler: (that: unknown, orig: Fn, args: unknown[]) => unknown): Fn | null {
    try {
      const orig = target[name];
      if (typeof orig !== 'function') return null;
      const own = Object.prototype.hasOwnProperty.call(target, name);
      const wrapped = function (this: unknown, ...args: unknown[]): unknown {
        return handler(this, orig as Fn, args);
      };
      Object.defineProperty(wrapped, 'name', { value: name });
      target[name] = wrapped;
      if (target[name] !== wrapped) throw new Error(`${name} is read-only`);
      this.patched.push({ target, name, orig: orig as Fn, wrapped, own });
      return orig as Fn;
    } catch (e) {
      this.host.problem(`patching InferenceSession ${name}`, e);
      return null;
    }
  }

  // ---- create -----------------------------------------------------------------------------------------

  private create(self: unknown, orig: Fn, args: unknown[]): unknown {
    if (this.restored) return orig.apply(self, args);
    let info: SessionInfo | null = null;
    try {
      // onnxruntime-web's proxy mode transfers the model's buffer to its worker: keep a copy then.
      const proxy = this.runtime === 'onnxruntime-web' && this.ort.env?.wasm?.proxy === true;
      const source = modelSourceOf(args, proxy);
      const options = sessionOptionsOf(args);
      info = { source, options, name: modelNameOf(source), files: null, capture: null, outstanding: 0, dropWanted: false };
    } catch (e) {
      this.host.problem('recording InferenceSession.create', e);
    }
    const out = orig.apply(self, args);
    if (!info || !isThenable(out)) return out;
    const recorded = info;
    return out.then((session: unknown) => {
      try {
        if (session !== null && typeof session === 'object') {
          this.sessions.set(session, recorded);
          this.collected?.register(session, recorded);
        }
      } catch (e) {
        this.host.problem('recording InferenceSession.create', e);
      }
      return session;
    });
  }

  // ---- release ----------------------------------------------------------------------------------------

  private release(session: unknown, orig: Fn, args: unknown[]): unknown {
    try {
      const info = session !== null && typeof session === 'object' ? this.sessions.get(session) : undefined;
      if (info) {
        info.dropWanted = true;
        this.dropWhenIdle(info);
      }
    } catch (e) {
      this.host.problem('releasing a capture session', e);
    }
    return orig.apply(session, args);
  }

  /** Release the capture session of `info` (and forget its model) once no capture of it is pending. */
  private dropWhenIdle(info: SessionInfo): void {
    if (!info.dropWanted || info.outstanding > 0) return;
    const capture = info.capture;
    info.capture = null;
    info.files = null;
    info.source = null;
    this.live.delete(info);
    capture
      ?.then(async (m) => {
        if (m.session) await this.origRelease?.call(m.session);
      })
      .catch(() => undefined);
  }

  // ---- run --------------------------------------------------------------------------------------------

  private run(session: unknown, orig: Fn, args: unknown[]): unknown {
    if (this.restored || session === null || typeof session !== 'object' || this.own.has(session)) return orig.apply(session, args);
    let decision: 'capture' | 'timing' = 'timing';
    try {
      decision = this.host.decide(session);
    } catch (e) {
      this.host.problem('sampling', e);
    }
    let feeds: FeedCopy[] | null = null;
    if (decision === 'capture') {
      try {
        const c = copyFeeds(args[0]);
        if ('reason' in c) this.host.problem('capturing an onnxruntime inference', new Error(`${c.reason}: this inference is timed only`));
        else feeds = c.copies;
      } catch (e) {
        this.host.problem('copying the inputs', e);
      }
    }
    const call = (): unknown => {
      const t0 = this.host.now();
      const out = orig.apply(session, args);
      if (!isThenable(out)) return out;
      return out.then((result: unknown) => {
        try {
          const ms = this.host.now() - t0;
          if (feeds) this.captured(session, feeds, result, ms);
          else this.host.timed(session, ms, false);
        } catch (e) {
          this.host.problem('recording an onnxruntime inference', e);
        }
        return result;
      });
    };
    // The feeds are copied above, at the call; the run itself may wait for exray's capture run.
    return this.gate ? this.gate.app(() => Promise.resolve(call())) : call();
  }

  /** The app's run resolved: copy its results and hand the capture to the host. */
  private captured(session: object, feeds: FeedCopy[], result: unknown, ms: number): void {
    const results = copyResult(result);
    const settings = this.host.settings();
    const timing = this.host.timingOf(session);
    const info = this.sessions.get(session) ?? null;
    if (info) {
      info.outstanding++;
      this.live.add(info);
    }
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (info) {
        info.outstanding--;
        if (info.outstanding === 0 && !info.capture && !info.dropWanted) this.live.delete(info);
        this.dropWhenIdle(info);
      }
    };
    const build = async (): Promise<CapturedRun> => {
      try {
        return await this.build(session, info, feeds, results, settings, timing, ms);
      } finally {
        finish();
      }
    };
    try {
      this.host.captured(session, { build, release: finish });
    } catch (e) {
      finish();
      throw e;
    }
  }

  /** The model's bytes and identity (read again from its URL / path the first time a capture needs them). */
  private bytesOf(info: SessionInfo): Promise<ModelBytes> {
    info.files ??= (async () => {
      if (!info.source) throw new Error('InferenceSession.create was given a model exray does not recognise');
      const { bytes, how } = await modelBytesOf(info.source);
      return { bytes, files: await onnxModelFiles(info.name, bytes, how) };
    })().catch((e: unknown) => {
      info.files = null;
      throw e;
    });
    return info.files;
  }

  /** The capture model of `info`'s session, made once; `plain` remakes it without body values (`why` says why). */
  private captureModelOf(info: SessionInfo, model: Promise<ModelBytes>, plain?: { why: string }): Promise<CaptureModel> {
    if (plain) info.capture = null;
    info.capture ??= (async () => {
      const { bytes } = await model;
      const options = captureSessionOptions(info.options);
      const origCreate = this.origCreate ?? (this.ort.InferenceSession.create as unknown as Fn);
      const ep = executionProviderOf(info.options, this.runtime === 'onnxruntime-node' ? 'cpu' : 'wasm');
      const m = await prepareCaptureModel(
        bytes,
        `${info.name}.onnx`,
        async (rewritten) => {
          const s = (await origCreate.call(this.ort.InferenceSession, rewritten, options)) as object;
          this.own.add(s);
          return s;
        },
        { runtime: `${this.runtime} (${ep})`, ...(plain ? { withBodyValues: false, why: plain.why } : {}) },
      );
      this.live.add(info);
      return m;
    })().catch((e: unknown) => {
      info.capture = null;
      throw e;
    });
    return info.capture;
  }

  private async build(
    session: object,
    info: SessionInfo | null,
    feeds: FeedCopy[],
    results: Map<string, TensorValues>,
    settings: ReturnType<AgentHost['settings']>,
    timing: CapturedRun['timing'],
    capturedMs: number,
  ): Promise<CapturedRun> {
    const warnings: string[] = [];
    const options = (info?.options ?? {}) as OrtSessionOptions;
    const ep = executionProviderOf(info?.options ?? {}, this.runtime === 'onnxruntime-node' ? 'cpu' : 'wasm');
    let files: Promise<ModelFiles> | null = null;
    let model: CaptureModel | null = null;
    let captured: Record<string, OrtTensor | undefined> | null = null;

    if (!info) {
      warnings.push(
        'this session was created before the exray agent attached (or by an onnxruntime it did not patch): exray does not have its model, so the trace has the inputs and outputs only, and no model identity',
      );
    } else {
      const bytes = this.bytesOf(info);
      files = bytes.then((b) => b.files);
      // Awaited by the host through modelFiles(); never an unhandled rejection in the app.
      files.catch(() => undefined);
      try {
        model = await this.captureModelOf(info, bytes);
      } catch (e) {
        warnings.push(`the model could not be read for the capture (${message(e)}): the trace has the inputs and outputs only`);
      }
    }

    if (model && info) {
      const origRun = this.origRun ?? (this.ort.InferenceSession as unknown as { prototype: { run: Fn } }).prototype.run;
      const bytes = this.bytesOf(info);
      const ran = await runCaptureModel(
        model,
        {
          run: (s) => {
            const run = async (): Promise<Record<string, OrtTensor>> => (await origRun.call(s, ortFeeds(this.ort, feeds))) as Record<string, OrtTensor>;
            return this.gate ? this.gate.own(run) : run();
          },
          // A run of the model with body values failed: this session's captures go on without them.
          withoutBodyValues: async (m, why) => {
            // Another capture of this session may have replaced it already.
            const current = await this.captureModelOf(info, bytes).catch(() => null);
            if (current && current !== m) return current;
            if (m.session) await Promise.resolve(this.origRelease?.call(m.session)).catch(() => undefined);
            return this.captureModelOf(info, bytes, { why });
          },
        },
        `${this.runtime} (${ep})`,
      );
      model = ran.model;
      captured = ran.outs;
      warnings.push(...ran.warnings);
    }

    const parts = assembleRun({ feeds, results, model, captured, keepNodeValues: settings.capture === 'tensors', bins: settings.histogramBins, ep });
    if (parts.source) warnings.unshift(parts.source);
    warnings.push(...parts.warnings);
    warnings.push("traced by the exray agent inside the app: no kernel timing for this inference (timing: the app's timing-only inferences)");

    return {
      model: session,
      format: 'onnx',
      runtime: { name: this.runtime, version: ortVersion(this.ort, this.runtime), backend: ep },
      environment: collectOrtEnvironment(this.ort, this.runtime, ep, options),
      inputs: parts.inputs,
      declaredInputs: parts.declaredInputs,
      declaredOutputs: parts.declaredOutputs,
      nodeCount: model?.nodes.length ?? 0,
      nodes: parts.nodes,
      outputs: parts.outputs,
      blobs: parts.blobs,
      timing,
      capturedMs,
      warnings,
      modelFiles: files ? () => files : async () => null,
    };
  }
}
