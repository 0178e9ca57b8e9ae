/**
 * The phone's page (`?phone`, or a paired device): pick a model (PhoneModel.tsx), a photo (sample, file or one
 * camera frame), the backends this phone offers, Run. No reference and no per-node views here: each
 * run streams to exray serve, and the desktop shows everything. The phone keeps a compact summary.
 * Everything fits a 360 px-wide screen.
 */
import type { ReactNode } from 'react';
import { PhotoFileButton } from '../components/PhotoFileButton.tsx';
import type { CaptureMode } from '../../trace/types.ts';
import { hasImageInput } from '../load/model.ts';
import { chooseSamplePhoto } from '../state/controller.ts';
import { canRun, runName } from '../state/runs.ts';
import { getState, setState, useApp, type AppState } from '../state/store.ts';
import { fmtBytes, fmtMs, fmtPct } from '../util/format.ts';
import { BACKENDS, backendUnsupported, type BackendName, type BackendOptions } from '../worker/protocol.ts';
import { Camera } from '../components/Camera.tsx';
import { TensorInputs } from '../components/TensorInputs.tsx';
import { cancelPhoneRuns, startPhoneRuns, usePhone } from './phone-runs.ts';
import { PhoneModel } from './PhoneModel.tsx';
import type { PhoneRun } from './phone-summary.ts';
import { useRemote } from './remote-state.ts';

const MiB = 1024 * 1024;

function LinkState(): ReactNode {
  const r = useRemote();
  const p = usePhone();
  const link = p.link;
  let state: string;
  let text: string;
  if (r.detection === 'detecting') [state, text] = ['connecting', 'connecting…'];
  else if (r.detection === 'unpaired') [state, text] = ['unpaired', 'not paired'];
  else if (r.detection === 'none') [state, text] = ['none', 'not connected to exray serve: runs stay on this phone'];
  else if (!link || link.state === 'connecting') [state, text] = ['connecting', 'connecting…'];
  else if (link.state === 'open') [state, text] = ['open', 'connected'];
  else if (link.state === 'resuming') [state, text] = ['resuming', `resuming…${link.reason ? ` (${link.reason})` : ''}`];
  else [state, text] = ['closed', `closed: ${link.reason ?? ''}`];
  const waiting = link && link.unackedBytes > 0 ? ` · ${(link.unackedBytes / MiB).toFixed(1)} MiB waiting` : '';
  return (
    <span className={`link-state ls-${state}`} data-testid="link-state" data-state={state} data-unacked={link?.unackedBytes ?? 0}>
      {text}
      {waiting}
    </span>
  );
}

function toggle(b: BackendName, on: boolean): void {
  const sel = getState().selected.filter((x) => x !== b);
  setState({ selected: on ? BACKENDS.filter((x) => x === b || sel.includes(x)) : sel });
}

function Backends(): ReactNode {
  const s = useApp();
  const format = s.model?.format === 'onnx' ? 'onnx' : 'tfjs';
  if (!s.backends) return <p className="small muted">checking what this phone can run…</p>;
  return (
    <div className="phone-backends">
      {s.backends.map((b) => {
        const why = backendUnsupported(b.name, format) ?? (b.available ? null : b.detail);
        return (
          <label key={b.name} className={`check${why ? ' disabled' : ''}`} data-testid={`backend-row-${b.name}`}>
            <input type="checkbox" data-testid={`backend-${b.name}`} checked={s.selected.includes(b.name) && !why} disabled={why !== null || s.running} onChange={(e) => toggle(b.name, e.target.checked)} />
            <span>
              <strong>{b.name}</strong> <span className={`small ${why ? 'unavailable' : 'muted'}`}>{why ?? b.detail}</span>
            </span>
          </label>
        );
      })}
    </div>
  );
}

function option<K extends keyof BackendOptions>(k: K, v: BackendOptions[K]): void {
  setState({ options: { ...getState().options, [k]: v } });
}

/** The options that make a run its own row (`webgl f16`); half-float WebGL is the phone-GPU effect. */
function Options(): ReactNode {
  const s = useApp();
  const o = s.options;
  const check = (id: string, label: string, k: 'webglF16' | 'webglPack' | 'wasmSimd' | 'wasmThreads'): ReactNode => (
    <label className="check">
      <input type="checkbox" data-testid={id} checked={o[k]} disabled={s.running} onChange={(e) => option(k, e.target.checked)} />
      <span>{label}</span>
    </label>
  );
  return (
    <>
      {check('opt-webgl-f16', 'WebGL half-float textures (force f16)', 'webglF16')}
      <details className="options">
        <summary>More options</summary>
        {check('opt-webgl-pack', 'WebGL packing (WEBGL_PACK)', 'webglPack')}
        {check('opt-wasm-simd', 'wasm SIMD', 'wasmSimd')}
        {check('opt-wasm-threads', 'wasm threads', 'wasmThreads')}
        <label className="field">
          <span>Timed runs</span>
          <input type="number" min={1} max={50} data-testid="opt-runs" value={s.timedRuns} disabled={s.running} onChange={(e) => setState({ timedRuns: Math.max(1, Math.min(50, Number(e.target.value) || 1)) })} />
        </label>
      </details>
    </>
  );
}

function Photo(): ReactNode {
  const s = useApp();
  if (s.model && !hasImageInput(s.model)) return <TensorInputs />;
  return (
    <>
      <div className="row">
        <select
          aria-label="sample photo"
          data-testid="sample-photo-select"
          value={s.photo && s.index?.photos.includes(s.photo.name) ? s.photo.name : ''}
          disabled={s.running}
          onChange={(e) => e.target.value && void chooseSamplePhoto(e.target.value)}
        >
          <option value="">sample photo…</option>
          {s.index?.photos.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <PhotoFileButton label="Photo" />
        <Camera />
      </div>
      {s.photo && (
        <div className="phone-photo">
          <img src={s.photo.url} alt={s.photo.name} data-testid="photo" />
          <span className="small muted">{s.photo.name}</span>
          <span className="small" data-testid="input-state">
            {s.inputBusy ? 'preparing…' : s.input ? 'ready' : ''}
          </span>
        </div>
      )}
      {s.inputError && (
        <p className="errors" role="alert" data-testid="input-error">
          {s.inputError}
        </p>
      )}
    </>
  );
}

function sessionText(r: PhoneRun): string {
  const st = r.session;
  switch (st.status) {
    case 'opening':
      return 'opening a session…';
    case 'streaming':
      return 'streaming to the desktop';
    case 'sent':
      return `on the desktop${st.reason ? ` · ${st.reason}` : ''}`;
    case 'local':
      return `not sent${st.reason ? `: ${st.reason}` : ''}`;
    default:
      return `${st.status}: ${st.reason ?? ''}`;
  }
}

function Status(): ReactNode {
  const p = usePhone();
  return (
    <ul className="phone-status" data-testid="phone-status" data-running={p.running ? 'true' : 'false'}>
      {p.runs.map((r) => (
        <li key={r.stream} data-testid="phone-run-row" data-stream={r.stream} data-status={r.status} data-session={r.session.id ?? ''} data-session-status={r.session.status}>
          <div className="row">
            <strong>{r.stream}</strong>
            <span className="small">{r.status === 'running' && r.declaredNodes > 0 && r.phase === 'capture pass' ? `capture · node ${r.nodes} of ${r.declaredNodes}` : r.phase}</span>
          </div>
          <div className="small">
            median {fmtMs(r.medianMs)} <span className="muted">· first {fmtMs(r.firstRunMs)}</span>
            {r.top1 && (
              <span data-testid="phone-top1">
                {' '}
                · top-1 <strong>{r.top1.label ?? `#${r.top1.index}`}</strong> {r.top1.probability !== null ? fmtPct(r.top1.probability) : ''}
              </span>
            )}
          </div>
          {r.gpu && <div className="small muted">{r.gpu}</div>}
          <div className={`small ${r.session.status === 'failed' || r.session.status === 'refused' ? 'bad' : 'muted'}`}>{sessionText(r)}</div>
          {r.error && <div className="small bad">{r.error}</div>}
        </li>
      ))}
      {p.waiting && <li className="small muted">waiting for the previous upload before the next backend…</li>}
    </ul>
  );
}

export function PhonePage(): ReactNode {
  const s = useApp();
  const r = useRemote();
  const why = canRun();
  return (
    <div className="phone-page" data-testid="phone-page">
      <header className="phone-top">
        <span className="logo" aria-hidden="true">
          ✕
        </span>
        <strong>exray</strong>
        <LinkState />
      </header>
      {r.problem && (
        <p className="notice" role="alert" data-testid="pairing-problem">
          {r.problem}
        </p>
      )}
      {s.notice && (
        <p className="notice" role="status" data-testid="notice">
          {s.notice}
        </p>
      )}
      <section className="panel">
        <PhoneModel />
        {s.modelLoading && <p className="small muted">loading {s.modelLoading}…</p>}
        {s.modelProblems.map((p, i) => (
          <p key={i} className="errors">
            {p.file}: {p.problem}
          </p>
        ))}
        {s.model && (
          <p className="small muted">
            <span data-testid="model-name">{s.model.name}</span> · {s.model.format} · {fmtBytes(s.model.bytes)}
          </p>
        )}
        <Photo />
      </section>
      <section className="panel">
        <Backends />
        <Options />
        <label className="field">
          <span>Capture</span>
          <select data-testid="opt-capture" value={s.capture} disabled={s.running} onChange={(e) => setState({ capture: e.target.value as CaptureMode })}>
            <option value="tensors">tensors (exact errors on the desktop)</option>
            <option value="stats">stats (small: for slow links, big models)</option>
            <option value="timing">timing only</option>
          </select>
        </label>
        <label className="field">
          <span>Values sent</span>
          <select
            data-testid="opt-link-precision"
            value={s.linkPrecision}
            disabled={s.running || s.capture !== 'tensors'}
            onChange={(e) => setState({ linkPrecision: e.target.value as AppState['linkPrecision'] })}
          >
            <option value="float32">exact (float32)</option>
            <option value="float16">float16: half the bytes, relative error ≤ 2⁻¹¹</option>
            <option value="bfloat16">bfloat16: half the bytes, relative error ≤ 2⁻⁸</option>
          </select>
        </label>
        <div className="row">
          {s.running ? (
            <button type="button" className="button" data-testid="phone-cancel" onClick={cancelPhoneRuns}>
              Cancel
            </button>
          ) : (
            <button type="button" className="button primary" data-testid="phone-run" disabled={why !== null} onClick={() => void startPhoneRuns()}>
              Run {s.selected.map((b) => runName(b, s.options)).join(' + ')}
            </button>
          )}
          {why && !s.running && <span className="small muted">{why}</span>}
        </div>
        <Status />
      </section>
      <p className="small muted phone-foot">
        Full view on the desktop: <code>{typeof location === 'undefined' ? '' : `${location.origin}/`}</code>
      </p>
    </div>
  );
}
