/**
 * How exray gets per-kernel times out of onnxruntime, per runtime and execution provider. Pure of
 * Node APIs: the Node-only readers (profile file, stdout) live in src/reference/ort-node.ts and plug in
 * through `chromeTraceProfiler`.
 *
 * - Session profiler (cpu / wasm EPs): a session created with `enableProfiling`; `endProfiling()` writes
 *   the Chrome-trace JSON to a file (onnxruntime-node) or prints it (onnxruntime-web). Clock `ort-profiler`.
 * - WebGPU: GPU timestamp-query intervals per program, from the session profile (native WebGPU EP) or
 *   `env.webgpu.profiling.ondata` (JSEP). Clock `gpu-timestamp`.
 */
import type { Clock } from '../../trace/types.ts';
import type { OrtModule, OrtSession, OrtSessionOptions } from './ort-api.ts';
import { parseOrtProfile, type RawKernel } from './profile.ts';

export interface KernelProfiler {
  clock: Clock;
  /** true: profiles a session of its own, created with `sessionOptions()`; false: a run of any session. */
  ownSession: boolean;
  sessionOptions(): OrtSessionOptions;
  /** Calls `run` once and returns the kernels of that run, in execution order. */
  profile(session: OrtSession, run: () => Promise<void>): Promise<RawKernel[]>;
  /** Frees what the profiler holds (temporary files). */
  dispose?(): Promise<void>;
}

/**
 * The session profiler, with a reader that calls `session.endProfiling()` and returns the JSON text
 * it wrote (from a file, stdout or the console: the reader knows where).
 */
export function chromeTraceProfiler(
  readProfile: (session: OrtSession) => Promise<string>,
  extraOptions: OrtSessionOptions = {},
  dispose?: () => Promise<void>,
): KernelProfiler {
  return {
    clock: 'ort-profiler',
    ownSession: true,
    sessionOptions: () => ({ ...extraOptions, enableProfiling: true }),
    async profile(session, run) {
      await run();
      return parseOrtProfile(await readProfile(session));
    },
    ...(dispose ? { dispose } : {}),
  };
}

type LogFn = (...args: unknown[]) => void;

interface ConsoleHookState {
  original: LogFn;
  lines: string[] | null;
}

const HOOK_KEY = Symbol.for('exray.ort.consoleHook');

function hookState(): ConsoleHookState | undefined {
  return (globalThis as Record<symbol, ConsoleHookState | undefined>)[HOOK_KEY];
}

/**
 * onnxruntime-web binds `console.log` once and prints session profiles through that binding (when its
 * module is evaluated, or when its first session is created, depending on the build). exray therefore
 * puts a pass-through in `console.log` before that moment: the binding ORT keeps then reaches exray,
 * which records lines only while a profile is being read and forwards everything else to the original
 * `console.log`. Install it before onnxruntime-web is imported (`import './console-hook.ts'` first),
 * and leave it installed: `restoreConsole()` puts the original back, after which an ORT module that
 * has not bound yet would bind the original. Installed too late, the profile goes to the real console
 * and the trace says kernel times are unavailable.
 */
export function installOrtConsoleHook(): void {
  if (console.log === hookedLog) return;
  const state = hookState();
  if (state) state.original = console.log;
  else (globalThis as Record<symbol, ConsoleHookState | undefined>)[HOOK_KEY] = { original: console.log, lines: null };
  console.log = hookedLog;
}

function hookedLog(...args: unknown[]): void {
  const s = hookState();
  if (s?.lines) {
    s.lines.push(args.map(String).join(' '));
    return;
  }
  (s?.original ?? Function.prototype).apply(console, args);
}

/** Puts the original `console.log` back in place; ORT's earlier binding still goes through exray. */
export function restoreConsole(): void {
  const s = hookState();
  if (s && console.log === hookedLog) console.log = s.original as typeof console.log;
}

/**
 * Runs `f` and returns what was printed through `console.log` meanwhile, instead of printing it: what
 * went to `console.log` directly and what reached the pass-through through a binding made while it was
 * installed.
 */
export async function captureConsole(f: () => Promise<void> | void): Promise<string[]> {
  const wasHooked = console.log === hookedLog;
  installOrtConsoleHook();
  const s = hookState()!;
  const lines: string[] = [];
  s.lines = lines;
  try {
    await f();
  } finally {
    s.lines = null;
    if (!wasHooked) restoreConsole();
  }
  return lines;
}

/**
 * The JSON array printed by `endProfiling()` in onnxruntime-web: lines from the one that is `[` to the
 * one that is `]`. Throws when nothing was printed (ORT bound console.log before exray's hook).
 */
export function profileFromLines(lines: string[]): string {
  const start = lines.findIndex((l) => l.trim() === '[');
  const end = lines.findLastIndex((l) => l.trim() === ']');
  if (start < 0 || end < start) {
    throw new Error(
      lines.length === 0
        ? 'onnxruntime-web printed no profile where exray listens: import src/instrument/ort/console-hook.ts before onnxruntime-web (it binds console.log early)'
        : `onnxruntime-web printed ${lines.length} line(s) but no profile JSON array`,
    );
  }
  return lines.slice(start, end + 1).join('\n');
}

/** onnxruntime-web wasm EP in a page (or a worker): the profile printed to the console. */
export function consoleProfiler(): KernelProfiler {
  installOrtConsoleHook();
  return chromeTraceProfiler(readConsoleProfile);
}

/** One `env.webgpu.profiling.ondata` record (onnxruntime-web JSEP). */
interface WebGpuProfileData {
  kernelId: number;
  kernelType: string;
  kernelName: string;
  programName: string;
  startTime: number;
  endTime: number;
  inputsMetadata: { dims: readonly number[] }[];
  outputsMetadata: { dims: readonly number[] }[];
}

interface WebGpuEnv {
  profiling?: { mode?: 'off' | 'default'; ondata?: (data: WebGpuProfileData) => void };
}

/** Reads the profile onnxruntime-web prints at `endProfiling()` through console.log (a page or worker). */
export async function readConsoleProfile(session: OrtSession): Promise<string> {
  return profileFromLines(await captureConsole(() => session.endProfiling()));
}

/**
 * WebGPU EP: GPU time per program. onnxruntime-web has two WebGPU EPs and exray handles both:
 * - the native (C++) WebGPU EP (`onnxruntime-web/webgpu` in 1.30) puts GPU timestamp-query intervals
 *   in the session profile as `Api` events;
 * - the JSEP one (`onnxruntime-web`, `onnxruntime-web/all`) reports them through
 *   `env.webgpu.profiling = { mode: 'default', ondata }`, asynchronously after the run (buffer
 *   mapping): exray waits for the first record, then until none has arrived for `settleMs`
 *   (`maxWaitMs` bounds the wait).
 * With neither (no `timestamp-query`), the host-side times of the profile's node events are kept,
 * with clock `ort-profiler`.
 */
export function webgpuProfiler(
  ort: OrtModule,
  opts: { settleMs?: number; maxWaitMs?: number; readProfile?: (session: OrtSession) => Promise<string> } = {},
): KernelProfiler {
  const settleMs = opts.settleMs ?? 100;
  const maxWaitMs = opts.maxWaitMs ?? 5000;
  const readProfile = opts.readProfile ?? readConsoleProfile;
  installOrtConsoleHook();
  return {
    clock: 'gpu-timestamp',
    ownSession: true,
    sessionOptions: () => ({ enableProfiling: true }),
    async profile(session, run) {
      const env = (ort.env as unknown as { webgpu: WebGpuEnv }).webgpu;
      const before = env.profiling ? { ...env.profiling } : undefined;
      const records: WebGpuProfileData[] = [];
      let lastArrival = performance.now();
      env.profiling = {
        mode: 'default',
        ondata: (d) => {
          records.push(d);
          lastArrival = performance.now();
        },
      };
      try {
        await run();
        let text: string | undefined;
        try {
          text = await readProfile(session);
        } catch {
          text = undefined;
        }
        const gpu = text ? parseOrtProfile(text, 'gpu') : [];
        if (gpu.length > 0) return gpu;
        const t0 = performance.now();
        lastArrival = Math.max(lastArrival, t0);
        const waiting = (): boolean => (records.length === 0 || performance.now() - lastArrival < settleMs) && performance.now() - t0 < maxWaitMs;
        while (waiting()) await new Promise((r) => setTimeout(r, 10));
        if (records.length === 0 && text) return parseOrtProfile(text, 'node').map((k) => ({ ...k, clock: 'ort-profiler' as const }));
        return records
          .sort((a, b) => a.startTime - b.startTime)
          .map((d) => ({
            ortName: d.kernelName,
            op: d.programName && d.programName !== d.kernelType ? `${d.kernelType}:${d.programName}` : d.kernelType,
            nodeIndex: null,
            provider: 'JsExecutionProvider',
            startUs: d.startTime / 1000,
            ms: (d.endTime - d.startTime) / 1e6,
            inputShapes: d.inputsMetadata.map((m) => [...m.dims]),
            outputShapes: d.outputsMetadata.map((m) => [...m.dims]),
          }));
      } finally {
        env.profiling = before ?? { mode: 'off' };
      }
    },
  };
}
