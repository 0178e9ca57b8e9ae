/** The pre-processing spec: from the model card when there is one, else edited here. */
import { useState, type ReactNode } from 'react';
import { setSpec } from '../state/controller.ts';
import type { PreprocessSpec } from '../../trace/types.ts';

function numbers(text: string): number[] {
  return text
    .split(/[\s,]+/)
    .filter((x) => x !== '')
    .map(Number);
}

type Resize = PreprocessSpec['resize'];

/**
 * The resize choices, one per software behaviour (docs/model-card.md): the method with what it
 * implies — antialiasing (PIL, sharp), pixel-centre sampling, Chromium's canvas pre-scale.
 */
const RESIZES: { value: string; label: string; resize: Resize | null }[] = [
  { value: 'bilinear', label: 'bilinear (tf.image.resizeBilinear, OpenCV)', resize: null },
  { value: 'bilinear+aa', label: 'bilinear, antialiased (PIL BILINEAR)', resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: true } },
  { value: 'canvas-low', label: 'canvas drawImage (Chromium, default quality)', resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false, prescale: 'mip-level' } },
  { value: 'nearest', label: 'nearest', resize: null },
  { value: 'area', label: 'area (OpenCV INTER_AREA)', resize: { method: 'area', alignCorners: false, halfPixelCenters: false, antialias: false } },
  { value: 'bicubic', label: 'bicubic (tf.image.resize)', resize: { method: 'bicubic', alignCorners: false, halfPixelCenters: true, antialias: false } },
  { value: 'bicubic+aa', label: "bicubic, antialiased (PIL BICUBIC, sharp 'cubic')", resize: { method: 'bicubic', alignCorners: false, halfPixelCenters: true, antialias: true } },
  { value: 'lanczos3', label: 'Lanczos3 (tf.image.resize)', resize: { method: 'lanczos3', alignCorners: false, halfPixelCenters: true, antialias: false } },
  { value: 'lanczos3+aa', label: "Lanczos3, antialiased (sharp's default, PIL LANCZOS)", resize: { method: 'lanczos3', alignCorners: false, halfPixelCenters: true, antialias: true } },
];

function resizeValue(r: Resize): string {
  if (r.prescale === 'mip-level') return 'canvas-low';
  if (r.method === 'bilinear' || r.method === 'bicubic' || r.method === 'lanczos3') return r.antialias ? `${r.method}+aa` : r.method;
  return r.method;
}

/** bilinear and nearest (not antialiased, no pre-scale) take the corner convention; the others imply theirs. */
const hasCorners = (r: Resize): boolean => (r.method === 'bilinear' || r.method === 'nearest') && !r.antialias && !r.prescale;

function chooseResize(current: Resize, value: string): Resize {
  const fixed = RESIZES.find((x) => x.value === value)?.resize;
  if (fixed) return fixed;
  // bilinear / nearest: keep the corner convention chosen, half-pixel when coming from one that implied it.
  const method = value as Resize['method'];
  return hasCorners(current) ? { method, alignCorners: current.alignCorners, halfPixelCenters: current.halfPixelCenters, antialias: false } : { method, alignCorners: false, halfPixelCenters: true, antialias: false };
}

function describe(s: PreprocessSpec): string {
  return `${s.width}×${s.height} ${resizeValue(s.resize)}${s.resize.alignCorners ? ' (align corners)' : ''}, ${s.fit}, ${s.channels}, ${s.layout}, ×${Number(s.scale.toPrecision(4))} − [${s.mean.join(', ')}] ÷ [${s.std.join(', ')}], ${s.dtype}`;
}

export function PreprocessForm(props: { spec: PreprocessSpec; fromCard: boolean; hasCard: boolean }): ReactNode {
  const [draft, setDraft] = useState<PreprocessSpec>(props.spec);
  const [mean, setMean] = useState(props.spec.mean.join(', '));
  const [std, setStd] = useState(props.spec.std.join(', '));
  const [error, setError] = useState<string | null>(null);
  const [base, setBase] = useState(props.spec);
  if (base !== props.spec) {
    // A new model or an applied edit: start over from it.
    setBase(props.spec);
    setDraft(props.spec);
    setMean(props.spec.mean.join(', '));
    setStd(props.spec.std.join(', '));
  }
  const set = <K extends keyof PreprocessSpec>(k: K, v: PreprocessSpec[K]): void => setDraft({ ...draft, [k]: v });
  const apply = (): void => {
    const m = numbers(mean);
    const sd = numbers(std);
    const c = draft.channels === 'grayscale' ? 1 : 3;
    if (m.length !== c || sd.length !== c || [...m, ...sd].some((x) => !Number.isFinite(x)) || sd.some((x) => x === 0)) {
      setError(`mean and std need ${c} finite numbers each (std non-zero)`);
      return;
    }
    setError(null);
    const next: PreprocessSpec = { ...draft, mean: m, std: sd };
    if (next.channels === 'grayscale') next.grayWeights = draft.grayWeights ?? [0.299, 0.587, 0.114];
    else delete next.grayWeights;
    setSpec(next);
  };
  return (
    <details className="preprocess" open={!props.hasCard} data-testid="preprocess-form">
      <summary>
        Pre-processing <span className="muted small">{props.fromCard ? '(from the model card)' : props.hasCard ? '(edited)' : '(no model card: check these)'}</span>
      </summary>
      <p className="small muted" data-testid="preprocess-summary">
        {describe(props.spec)}
      </p>
      <div className="grid2">
        <label className="field">
          <span>Width</span>
          <input type="number" min={1} data-testid="pp-width" value={draft.width} onChange={(e) => set('width', Number(e.target.value))} />
        </label>
        <label className="field">
          <span>Height</span>
          <input type="number" min={1} data-testid="pp-height" value={draft.height} onChange={(e) => set('height', Number(e.target.value))} />
        </label>
        <label className="field">
          <span>Resize</span>
          <select data-testid="pp-resize" value={resizeValue(draft.resize)} onChange={(e) => set('resize', chooseResize(draft.resize, e.target.value))}>
            {RESIZES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Corners</span>
          <select
            data-testid="pp-corners"
            disabled={!hasCorners(draft.resize)}
            title={hasCorners(draft.resize) ? undefined : 'implied by the resize method'}
            value={draft.resize.alignCorners ? 'align' : draft.resize.halfPixelCenters ? 'half' : 'none'}
            onChange={(e) => set('resize', { ...draft.resize, alignCorners: e.target.value === 'align', halfPixelCenters: e.target.value === 'half' })}
          >
            <option value="half">half-pixel centers</option>
            <option value="align">align corners</option>
            <option value="none">neither (legacy)</option>
          </select>
        </label>
        <label className="field">
          <span>Fit</span>
          <select data-testid="pp-fit" value={draft.fit} onChange={(e) => set('fit', e.target.value as PreprocessSpec['fit'])}>
            <option value="stretch">stretch</option>
            <option value="center-crop">center crop</option>
            <option value="letterbox">letterbox</option>
          </select>
        </label>
        <label className="field">
          <span>Channels</span>
          <select data-testid="pp-channels" value={draft.channels} onChange={(e) => set('channels', e.target.value as PreprocessSpec['channels'])}>
            <option value="rgb">RGB</option>
            <option value="bgr">BGR</option>
            <option value="grayscale">grayscale</option>
          </select>
        </label>
        <label className="field">
          <span>Layout</span>
          <select data-testid="pp-layout" value={draft.layout} onChange={(e) => set('layout', e.target.value as PreprocessSpec['layout'])}>
            <option value="nhwc">NHWC</option>
            <option value="nchw">NCHW</option>
          </select>
        </label>
        <label className="field">
          <span>Dtype</span>
          <select data-testid="pp-dtype" value={draft.dtype} onChange={(e) => set('dtype', e.target.value as PreprocessSpec['dtype'])}>
            <option value="float32">float32</option>
            <option value="int32">int32</option>
            <option value="uint8">uint8</option>
          </select>
        </label>
        <label className="field">
          <span>Scale</span>
          <input type="number" step="any" data-testid="pp-scale" value={draft.scale} onChange={(e) => set('scale', Number(e.target.value))} />
        </label>
        <label className="field">
          <span>Mean</span>
          <input data-testid="pp-mean" value={mean} onChange={(e) => setMean(e.target.value)} />
        </label>
        <label className="field">
          <span>Std</span>
          <input data-testid="pp-std" value={std} onChange={(e) => setStd(e.target.value)} />
        </label>
      </div>
      <p className="small muted">value = (pixel × scale − mean) ÷ std, pixel in 0…255</p>
      {error && <p className="errors">{error}</p>}
      <button type="button" className="button small" data-testid="pp-apply" onClick={apply}>
        Apply
      </button>
    </details>
  );
}
