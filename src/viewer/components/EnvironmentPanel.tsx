/** Where each run ran: browser, GPU, float precision, flags, threads, isolation. */
import type { ReactNode } from 'react';
import type { Environment, RuntimeInfo } from '../../trace/types.ts';
import { useApp } from '../state/store.ts';

/**
 * Why TF.js wasm ran with this many threads (issue 12 item 10). tfjs-backend-wasm (src/cc/backend.cc)
 * sizes its XNNPACK thread pool as min(4, max(1, floor(navigator.hardwareConcurrency / 2))): half the
 * logical cores (x86 has two per core), 1 to 4; the single-threaded build (threads off, or the page not
 * cross-origin isolated) runs on 1.
 */
export function threadsText(env: Environment, rt: RuntimeInfo | undefined): string {
  if (env.threads === undefined) return '–';
  const n = String(env.threads);
  if (rt?.name !== 'tfjs' || rt.backend !== 'wasm') return n;
  const multi = env.flags.WASM_HAS_MULTITHREAD_SUPPORT;
  if (multi === false) return `${n} (single-threaded wasm build: ${env.crossOriginIsolated === false ? 'the page is not cross-origin isolated' : 'the wasm threads option is off'})`;
  const cores = env.hardwareConcurrency;
  if (!cores) return n;
  const rule = Math.min(4, Math.max(1, Math.floor(cores / 2)));
  return `${n} (TF.js wasm uses half the logical cores, 1 to 4: ${cores} cores → ${rule})`;
}

function rows(env: Environment, rt: RuntimeInfo | undefined): [string, string][] {
  const out: [string, string][] = [
    ['runtime', rt ? `${rt.name} ${rt.version} / ${rt.backend}` : '–'],
    ['browser', env.userAgent],
    ['platform', `${env.platform} · ${env.hardwareConcurrency} logical cores`],
    ['threads', threadsText(env, rt)],
    ['cross-origin isolated', env.crossOriginIsolated === undefined ? '–' : env.crossOriginIsolated ? 'yes' : 'no'],
    [
      'float precision',
      env.floatPrecision === undefined
        ? '–'
        : `${env.floatPrecision}-bit`,
    ],
  ];
  if (env.webgl) {
    const g = env.webgl;
    out.push(['GPU (WebGL)', `${g.renderer} · ${g.vendor}`]);
    out.push(['WebGL', `version ${g.version} · max texture ${g.maxTextureSize} · ${g.floatTextures ? 'float32 textures' : 'half-float textures'}`]);
  }
  if (env.webgpu) {
    const g = env.webgpu;
    out.push(['GPU (WebGPU)', `${[g.vendor, g.architecture, g.description].filter((x) => x).join(' ') || 'adapter'}${g.isFallbackAdapter ? ' (fallback adapter)' : ''}`]);
    out.push(['WebGPU features', g.features.join(', ') || '–']);
  }
  const flags = Object.entries(env.flags);
  out.push(['flags', flags.length ? flags.map(([k, v]) => `${k}=${String(v)}`).join(' ') : '(defaults)']);
  return out;
}

export function EnvironmentPanel(): ReactNode {
  const s = useApp();
  const envs = s.runs
    .map((r) => ({ r, env: r.trace?.header.environment ?? r.start?.environment, rt: r.trace?.header.runtime ?? r.start?.runtime }))
    .filter((x): x is { r: (typeof s.runs)[number]; env: Environment; rt: RuntimeInfo | undefined } => x.env !== undefined);
  if (envs.length === 0) return null;
  return (
    <section className="panel" data-testid="environment-panel" aria-labelledby="env-h">
      <h2 id="env-h">Environment</h2>
      <div className="env-grid">
        {envs.map(({ r, env, rt }) => (
          <dl key={r.stream} className="env" data-testid="environment" data-stream={r.stream}>
            <dt className="env-title">{r.stream}</dt>
            <dd />
            {rows(env, rt).map(([k, v]) => (
              <div key={k} className="env-row">
                <dt>{k}</dt>
                <dd data-testid={`env-${k.replace(/[^a-z]+/gi, '-').toLowerCase()}`}>{v}</dd>
              </div>
            ))}
          </dl>
        ))}
      </div>
    </section>
  );
}
