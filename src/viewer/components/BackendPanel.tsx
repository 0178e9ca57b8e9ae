/** Step 3: backends (several in one run) and their options, then Run. */
import type { ReactNode } from 'react';
import { PRECISION_PRESETS, type PrecisionPreset } from '../../compare/tolerance.ts';
import type { CaptureMode } from '../../trace/types.ts';
import { BACKENDS, backendUnsupported, type BackendName, type BackendOptions } from '../worker/protocol.ts';
import { canRun, cancelRuns, startRuns } from '../state/runs.ts';
import { currentCompareOptions, setCompareOptions } from '../state/session.ts';
import { getState, setState, useApp } from '../state/store.ts';
import { Progress } from './Progress.tsx';

function toggle(b: BackendName, on: boolean): void {
  const sel = getState().selected.filter((x) => x !== b);
  setState({ selected: on ? BACKENDS.filter((x) => x === b || sel.includes(x)) : sel });
}

function option<K extends keyof BackendOptions>(k: K, v: BackendOptions[K]): void {
  setState({ options: { ...getState().options, [k]: v } });
}

function Check(props: { id: string; label: ReactNode; checked: boolean; disabled?: boolean; title?: string; onChange: (v: boolean) => void }): ReactNode {
  return (
    <label className={`check${props.disabled ? ' disabled' : ''}`} title={props.title}>
      <input type="checkbox" data-testid={props.id} checked={props.checked} disabled={props.disabled} onChange={(e) => props.onChange(e.target.checked)} />
      <span>{props.label}</span>
    </label>
  );
}

export function BackendPanel(): ReactNode {
  const s = useApp();
  const why = canRun();
  const o = s.options;
  const isolated = typeof crossOriginIsolated === 'boolean' && crossOriginIsolated;
  const onnx = s.model?.format === 'onnx';
  /** Why a backend cannot run the loaded model (ONNX: onnxruntime-web's wasm, webgpu, webnn; TF.js: no webnn). */
  const notForModel = (b: BackendName): string | null => backendUnsupported(b, onnx ? 'onnx' : 'tfjs');
  const refLabel = onnx ? 'wasm reference (onnxruntime-web)' : 'cpu reference';
  return (
    <section className="panel" data-testid="backend-panel" aria-labelledby="backend-h">
      <h2 id="backend-h">
        <span className="step">3</span> Backends
      </h2>
      {!s.backends && <p className="muted small">checking what this browser can run…</p>}
      {onnx && (
        <p className="small" data-testid="onnx-reference-note">
          ONNX model: runs on onnxruntime-web; the reference is onnxruntime-web <strong>wasm</strong>.
        </p>
      )}
      <div className="backends">
        {(s.backends ?? []).map((b) => (
          <div key={b.name} className="backend" data-testid={`backend-row-${b.name}`}>
            <Check
              id={`backend-${b.name}`}
              label={<strong>{b.name}</strong>}
              checked={s.selected.includes(b.name) && !notForModel(b.name)}
              disabled={!b.available || s.running || notForModel(b.name) !== null}
              onChange={(v) => toggle(b.name, v)}
            />
            <span className={`small ${b.available && !notForModel(b.name) ? 'muted' : 'unavailable'}`} data-testid={`backend-detail-${b.name}`}>
              {notForModel(b.name) ?? (onnx && b.name === 'wasm' ? `onnxruntime-web, also the reference · ${b.detail}` : b.name === 'cpu' ? 'also the reference' : b.detail)}
            </span>
          </div>
        ))}
      </div>
      <details className="options">
        <summary>Options</summary>
        <Check id="opt-webgl-f16" label="WebGL half-float textures (phone GPU)" checked={o.webglF16} disabled={s.running} title="WEBGL_FORCE_F16_TEXTURES=true, WEBGL_CPU_FORWARD=false" onChange={(v) => option('webglF16', v)} />
        <Check id="opt-webgl-pack" label="WebGL packing (WEBGL_PACK)" checked={o.webglPack} disabled={s.running} onChange={(v) => option('webglPack', v)} />
        <Check id="opt-wasm-simd" label="wasm SIMD" checked={o.wasmSimd} disabled={s.running} onChange={(v) => option('wasmSimd', v)} />
        <Check
          id="opt-wasm-threads"
          label={`wasm threads${isolated ? '' : ' (needs cross-origin isolation)'}`}
          checked={o.wasmThreads}
          disabled={s.running}
          onChange={(v) => option('wasmThreads', v)}
        />
        <div className="grid2">
          <label className="field">
            <span>Capture</span>
            <select data-testid="opt-capture" value={s.capture} disabled={s.running} onChange={(e) => setState({ capture: e.target.value as CaptureMode })}>
              <option value="tensors">tensors (exact errors, heatmaps)</option>
              <option value="stats">stats (small, bounds only)</option>
              <option value="timing">timing only</option>
            </select>
          </label>
          <label className="field">
            <span>Tolerance</span>
            <select
              data-testid="opt-preset"
              value={s.preset}
              onChange={(e) => {
                const preset = e.target.value as PrecisionPreset;
                setState({ preset });
                setCompareOptions({ ...currentCompareOptions(), tolerance: { preset } });
              }}
            >
              {PRECISION_PRESETS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Timed runs</span>
            <input type="number" min={1} max={50} data-testid="opt-runs" value={s.timedRuns} disabled={s.running} onChange={(e) => setState({ timedRuns: Math.max(1, Math.min(50, Number(e.target.value) || 1)) })} />
          </label>
        </div>
        <p className="small muted">Option changes add new rows (e.g. “webgl f16”) next to earlier runs of the same model and photo.</p>
      </details>
      <div className="run-row">
        {s.running ? (
          <button type="button" className="button" data-testid="cancel-button" onClick={cancelRuns}>
            Cancel
          </button>
        ) : (
          <button type="button" className="button primary" data-testid="run-button" disabled={why !== null} onClick={() => void startRuns()}>
            Run {s.selected.join(' + ')}
            {s.selected.length > 0 && (onnx || !s.selected.includes('cpu')) ? ` + ${refLabel}` : ''}
          </button>
        )}
        {why && !s.running && <span className="small muted" data-testid="run-blocked">{why}</span>}
      </div>
      <Progress />
    </section>
  );
}
