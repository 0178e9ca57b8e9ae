/**
 * What the device and the TF.js backend look like, as recorded in a trace's `environment`. Reads the
 * TF.js instance it is given (the agent passes the app's own `tf`: a second copy would be another
 * engine with other flags); `collectEnvironment` in environment.ts binds it to exray's import.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import type { Environment, WebGLInfo, WebGPUInfo } from '../../trace/types.ts';
import { deviceEnvironment } from '../common.ts';

/** The slice of a TF.js namespace read here. */
export type TfEnvApi = Pick<typeof TfCore, 'env' | 'backend' | 'getBackend'>;

/** Flags whose value differs from TF.js's default for this platform: what was changed on purpose. */
function changedFlags(tf: TfEnvApi): Record<string, string | number | boolean> {
  const env = tf.env() as unknown as {
    flags: Record<string, string | number | boolean>;
    flagRegistry: Record<string, { evaluationFn: () => string | number | boolean }>;
  };
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(env.flags)) {
    let def: string | number | boolean | undefined;
    try {
      def = env.flagRegistry[name]?.evaluationFn();
    } catch {
      def = undefined;
    }
    if (def !== value) out[name] = value;
  }
  return out;
}

function webglInfo(tf: TfEnvApi, backend: unknown): WebGLInfo | undefined {
  const gl = (backend as { gpgpu?: { gl?: WebGLRenderingContext | WebGL2RenderingContext } }).gpgpu?.gl;
  if (!gl) return undefined;
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  return {
    version: tf.env().getNumber('WEBGL_VERSION'),
    vendor: String(gl.getParameter(dbg ? dbg.UNMASKED_VENDOR_WEBGL : gl.VENDOR)),
    renderer: String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER)),
    maxTextureSize: Number(gl.getParameter(gl.MAX_TEXTURE_SIZE)),
    floatTextures: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') && !tf.env().getBool('WEBGL_FORCE_F16_TEXTURES'),
  };
}

function webgpuInfo(backend: unknown): WebGPUInfo | undefined {
  const b = backend as {
    device?: { features?: Iterable<string>; limits?: Record<string, unknown> };
    adapterInfo?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  };
  if (!b.device) return undefined;
  const limits: Record<string, number> = {};
  if (b.device.limits) {
    for (const key in b.device.limits) {
      const v = b.device.limits[key];
      if (typeof v === 'number') limits[key] = v;
    }
  }
  return {
    vendor: b.adapterInfo?.vendor ?? '',
    architecture: b.adapterInfo?.architecture ?? '',
    description: b.adapterInfo?.description ?? '',
    isFallbackAdapter: b.adapterInfo?.isFallbackAdapter ?? false,
    features: b.device.features ? [...b.device.features].sort() : [],
    limits,
  };
}

/**
 * Bits of the float type the backend computes in. TF.js 4.22's webgl `floatPrecision()` answers 16
 * exactly when float32 rendering IS enabled (its underflow probe only runs when it is not), so for
 * webgl the answer is taken from the flags that decide the texture type instead.
 */
function floatPrecisionOf(tf: TfEnvApi, name: string, backend: { floatPrecision(): number }): number {
  if (name === 'webgl') {
    const f32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') && !tf.env().getBool('WEBGL_FORCE_F16_TEXTURES');
    return f32 ? 32 : 16;
  }
  return backend.floatPrecision();
}

/** Describe the current device and backend. `extra` lets the caller add what only it knows (threads). */
export function collectEnvironmentOf(tf: TfEnvApi, extra: Partial<Environment> = {}): Environment {
  const backend = tf.backend();
  const env: Environment = {
    ...deviceEnvironment(),
    floatPrecision: floatPrecisionOf(tf, tf.getBackend(), backend),
    flags: changedFlags(tf),
  };
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (typeof isolated === 'boolean') env.crossOriginIsolated = isolated;
  const gl = webglInfo(tf, backend);
  if (gl) env.webgl = gl;
  const gpu = webgpuInfo(backend);
  if (gpu) env.webgpu = gpu;
  return { ...env, ...extra, flags: { ...env.flags, ...(extra.flags ?? {}) } };
}
