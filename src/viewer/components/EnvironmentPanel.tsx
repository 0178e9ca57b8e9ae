/** Where each run ran: browser, GPU, float precision, flags, threads, isolation. */
import type { ReactNode } from 'react';
import type { Environment, RuntimeInfo } from '../../trace/types.ts';
import { useApp } from '../state/store.ts';

function rows(env: Environment, rt: RuntimeInfo | undefined): [string, string][] {
  const out: [string, string][] = [
    ['runtime', rt ? `${rt.name} ${rt.version} / ${rt.backend}` : '–'],
    ['browser', env.userAgent],
    ['platform', `${env.platform} · ${env.hardwareConcurrency} logical cores`],
    ['threads', env.threads !== undefined ? String(env.threads) : '–'],
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
