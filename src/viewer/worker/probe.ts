/**
 * What this context can run, found without initialising (or even loading) TF.js: WebAssembly,
 * a WebGL context on an OffscreenCanvas, a WebGPU adapter, a WebNN context (ONNX models only).
 * Works in a worker and on the main thread.
 */
import type { BackendProbe } from './protocol.ts';

interface GpuLike {
  requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean } } | null>;
}

function gpu(): GpuLike | undefined {
  return (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
}

function webglContext(): { ok: boolean; detail: string } {
  if (typeof OffscreenCanvas === 'undefined') {
    if (typeof document === 'undefined') return { ok: false, detail: 'no OffscreenCanvas in this worker' };
    const c = document.createElement('canvas');
    const gl = c.getContext('webgl2') ?? c.getContext('webgl');
    return gl ? { ok: true, detail: rendererOf(gl) } : { ok: false, detail: 'no WebGL context' };
  }
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
  if (!gl) return { ok: false, detail: typeof document === 'undefined' ? 'no WebGL in workers' : 'no WebGL context' };
  const detail = rendererOf(gl);
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { ok: true, detail };
}

function rendererOf(gl: WebGLRenderingContext | WebGL2RenderingContext): string {
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  return `${typeof WebGL2RenderingContext !== 'undefined' && gl instanceof WebGL2RenderingContext ? 'WebGL 2' : 'WebGL 1'}: ${renderer}`;
}

function wasmDetail(): { ok: boolean; detail: string } {
  if (typeof WebAssembly !== 'object') return { ok: false, detail: 'no WebAssembly' };
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return { ok: true, detail: isolated ? 'threads possible (cross-origin isolated)' : 'single thread (not cross-origin isolated)' };
}

interface MlLike {
  createContext(options?: Record<string, unknown>): Promise<unknown>;
}

/** WebNN (`navigator.ml`): a context must be creatable; Chromium on Linux has the API behind a flag but no implementation. */
async function webnnDetail(): Promise<{ ok: boolean; detail: string }> {
  const ml = (globalThis.navigator as { ml?: MlLike } | undefined)?.ml;
  if (!ml) return { ok: false, detail: 'no navigator.ml (WebNN not supported or not enabled)' };
  try {
    await ml.createContext();
    return { ok: true, detail: 'WebNN context (onnxruntime-web webnn; ONNX models only, whole-run times)' };
  } catch (e) {
    return { ok: false, detail: `WebNN createContext failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * What this context can run, without initialising any TF.js backend. `known`: backends another
 * context (the utility worker) has found available, not probed again here: a WebGL context or a
 * WebGPU adapter is GPU-process work (ANGLE, Dawn; on a software GPU, CPU time) that ran beside
 * traces opened while the page started (issue #16 item 5), for an answer the worker already gave.
 */
export async function probeBackends(where: 'worker' | 'main', known: ReadonlySet<string> = new Set()): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [{ name: 'cpu', available: true, detail: 'plain JavaScript', where }];
  const w = wasmDetail();
  out.push({ name: 'wasm', available: w.ok, detail: w.detail, where: w.ok ? where : 'none' });
  const notProbed = (name: BackendProbe['name']): BackendProbe => ({ name, available: false, detail: 'not probed here (found available in the worker)', where: 'none' });
  const gl = known.has('webgl') ? null : webglContext();
  out.push(gl === null ? notProbed('webgl') : { name: 'webgl', available: gl.ok, detail: gl.detail, where: gl.ok ? where : 'none' });
  const g = gpu();
  if (known.has('webgpu')) out.push(notProbed('webgpu'));
  else if (!g) {
    out.push({ name: 'webgpu', available: false, detail: 'no navigator.gpu (WebGPU not supported or not enabled)', where: 'none' });
  } else {
    try {
      const adapter = await g.requestAdapter();
      if (!adapter) out.push({ name: 'webgpu', available: false, detail: 'no WebGPU adapter', where: 'none' });
      else {
        const i = adapter.info ?? {};
        const desc = [i.vendor, i.architecture, i.description].filter((s) => s).join(' ') || 'adapter';
        out.push({ name: 'webgpu', available: true, detail: `${desc}${i.isFallbackAdapter ? ' (fallback adapter)' : ''}`, where });
      }
    } catch (e) {
      out.push({ name: 'webgpu', available: false, detail: `requestAdapter failed: ${String(e)}`, where: 'none' });
    }
  }
  const nn = known.has('webnn') ? null : await webnnDetail();
  out.push(nn === null ? notProbed('webnn') : { name: 'webnn', available: nn.ok, detail: nn.detail, where: nn.ok ? where : 'none' });
  return out;
}

