/**
 * Model inputs fed with tensors (audio frames, recurrent state, a sample rate): one row per input with
 * its name and declared dtype / shape (`?` for symbolic dimensions), a picker / drop zone for a `.npy`
 * or `.json` tensor file, the card's default or zeros, and a bundled sample set. Each given tensor is
 * shown: shape, dtype, min / max / mean, and a picture (a waveform for audio-like 1-D data, a heatmap
 * otherwise).
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { filesFromInput, type PickedFile } from '../load/dropped-files.ts';
import { cardDefault, summarize, zerosFor, type GivenTensor, type TensorInputSpec } from '../load/tensor-inputs.ts';
import { applySampleSet, clearTensor, giveTensorFiles, setDefaultTensor } from '../state/tensor-inputs.ts';
import { useApp } from '../state/store.ts';
import { fmtShape, fmtVal } from '../util/format.ts';
import { drawPlane, planesOf } from '../util/heatmap.ts';
import { DropZone } from './DropZone.tsx';

const ACCEPT = '.npy,.json,application/json,application/octet-stream';

/** Dimensions other than 1: a [1,576] frame is a line, [2,1,128] a 2×128 picture. */
function squeezed(shape: readonly number[]): number[] {
  return shape.filter((d) => d !== 1);
}

function drawWave(canvas: HTMLCanvasElement, data: ArrayLike<number>, lo: number, hi: number): void {
  const w = 320;
  const h = 64;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, w, h);
  const span = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  ctx.strokeStyle = '#8884';
  ctx.beginPath();
  ctx.moveTo(0, h / 2);
  ctx.lineTo(w, h / 2);
  ctx.stroke();
  ctx.strokeStyle = '#3b7dd8';
  ctx.lineWidth = 1;
  ctx.beginPath();
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const x = n === 1 ? w / 2 : (i / (n - 1)) * (w - 1);
    const y = h / 2 - (data[i]! / span) * (h / 2 - 2);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  ctx.stroke();
}

function TensorPlot({ t }: { t: GivenTensor }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const kind = t.data.length <= 1 ? 'none' : squeezed(t.shape).length <= 1 ? 'waveform' : 'heatmap';
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    if (kind === 'waveform') drawWave(c, t.data, t.stats.min, t.stats.max);
    else if (kind === 'heatmap') drawPlane(c, planesOf(squeezed(t.shape)), 0, (i) => t.data[i]!, t.stats.min, t.stats.max, 'sequential', t.data.length);
  }, [t, kind]);
  if (kind === 'none') return null;
  return <canvas ref={ref} className={`tensor-plot ${kind}`} data-testid="tensor-plot" data-kind={kind} aria-label={`${t.name} as a ${kind}`} />;
}

function Given({ t }: { t: GivenTensor }): ReactNode {
  return (
    <div className="tensor-given" data-testid="tensor-given" data-shape={JSON.stringify(t.shape)} data-dtype={t.dtype}>
      <div className="small">
        <strong>{fmtShape(t.shape)}</strong> {t.dtype} <span className="muted">from {t.origin}</span>
      </div>
      <div className="small muted" data-testid="tensor-stats">
        {t.data.length === 1 ? (
          <>value {fmtVal(t.data[0])}</>
        ) : (
          <>
            min {fmtVal(t.stats.min)} · max {fmtVal(t.stats.max)} · mean {fmtVal(t.stats.mean)}
          </>
        )}
      </div>
      <TensorPlot t={t} />
    </div>
  );
}

function Row({ spec }: { spec: TensorInputSpec }): ReactNode {
  const s = useApp();
  const slot = s.tensors[spec.name];
  const card = cardDefault(spec);
  const zeros = card ? null : zerosFor(spec);
  const give = (files: PickedFile[]): void => void giveTensorFiles(files.slice(0, 1), spec.name);
  return (
    <li className="tensor-row" data-testid="tensor-row" data-input={spec.name} data-ready={slot?.tensor ? 'yes' : 'no'}>
      <DropZone testId={`tensor-drop-${spec.name}`} label={`drop a tensor file for ${spec.name}`} onFiles={give}>
        <div className="tensor-head">
          <code className="tensor-name">{spec.name}</code>{' '}
          <span className="small muted" data-testid="tensor-expected">
            {spec.dtype} {spec.rankKnown ? fmtShape(spec.shape) : 'any shape'}
          </span>
        </div>
        {spec.card?.notes && <div className="small muted tensor-notes">{spec.card.notes}</div>}
        <div className="row">
          <label className="button tiny">
            .npy / .json
            <input
              type="file"
              hidden
              accept={ACCEPT}
              data-testid={`tensor-file-input-${spec.name}`}
              disabled={s.running}
              onChange={(e) => {
                give(filesFromInput(e.target.files));
                e.target.value = '';
              }}
            />
          </label>
          {card && (
            <button type="button" className="button tiny" data-testid={`tensor-default-${spec.name}`} disabled={s.running} onClick={() => setDefaultTensor(spec.name, 'card')}>
              card default ({fmtVal(spec.card?.fill)})
            </button>
          )}
          {zeros && (
            <button type="button" className="button tiny" data-testid={`tensor-zeros-${spec.name}`} disabled={s.running} onClick={() => setDefaultTensor(spec.name, 'zeros')}>
              zeros
            </button>
          )}
          {slot?.tensor && (
            <button type="button" className="button tiny" disabled={s.running} onClick={() => clearTensor(spec.name)}>
              clear
            </button>
          )}
        </div>
        {slot?.error && (
          <p className="errors" role="alert" data-testid={`tensor-error-${spec.name}`}>
            {slot.error}
          </p>
        )}
        {slot?.tensor ? <Given t={slot.tensor} /> : !slot?.error && <p className="small muted">no tensor yet</p>}
      </DropZone>
    </li>
  );
}

export function TensorInputs(): ReactNode {
  const s = useApp();
  const [loose, setLoose] = useState<string[]>([]);
  const m = s.model;
  const specs = m?.tensorInputs ?? [];
  if (!m || specs.length === 0) return null;
  const entry = s.index?.models.find((e) => e.name === (m.card?.name ?? m.name));
  const sets = entry?.tensorSets ?? [];
  return (
    <div className="tensor-inputs" data-testid="tensor-inputs">
      <h3 className="small">Tensor inputs</h3>
      {sets.length > 0 && (
        <label className="field">
          <span>Sample set</span>
          <select
            data-testid="tensor-sample-select"
            value=""
            disabled={s.running}
            onChange={(e) => {
              const set = sets.find((x) => x.name === e.target.value);
              if (set && entry) void applySampleSet(entry.name, set);
            }}
          >
            <option value="">choose a sample set…</option>
            {sets.map((x) => (
              <option key={x.name} value={x.name} title={x.description}>
                {x.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <div className="row small">
        <label className="button tiny">
          Pick tensor files
          <input
            type="file"
            hidden
            multiple
            accept={ACCEPT}
            data-testid="tensor-files-input"
            disabled={s.running}
            onChange={(e) => {
              void giveTensorFiles(filesFromInput(e.target.files)).then(setLoose);
              e.target.value = '';
            }}
          />
        </label>
        <span className="muted">named like the inputs (state.npy), or drop one on a row</span>
      </div>
      {loose.length > 0 && (
        <ul className="errors" role="alert" data-testid="tensor-files-error">
          {loose.map((l, i) => (
            <li key={i}>{l}</li>
          ))}
        </ul>
      )}
      <ul className="tensor-rows">
        {specs.map((spec) => (
          <Row key={spec.name} spec={spec} />
        ))}
      </ul>
    </div>
  );
}

/** Opened traces: the input tensors the selected run recorded, when they are not one photo's tensor. */
export function RecordedInputs(): ReactNode {
  const s = useApp();
  if (s.source !== 'files') return null;
  const run = s.runs.find((r) => r.stream === s.selectedRun) ?? s.runs[0];
  const trace = run?.trace;
  const input = trace?.header.input;
  if (!run || !trace || !input || (input.source && input.tensors.length === 1)) return null;
  const given: GivenTensor[] = input.tensors.flatMap((t) => {
    const data = t.blob ? trace.blobs.get(t.blob.id) : undefined;
    return data ? [{ name: t.name, shape: t.shape, dtype: t.dtype, data, origin: `the trace of ${run.stream}`, stats: summarize(data) }] : [];
  });
  return (
    <div className="tensor-inputs" data-testid="recorded-inputs">
      <h3 className="small">
        Inputs recorded in <span className="muted">{run.stream}</span>
      </h3>
      <ul className="tensor-rows">
        {given.map((t) => (
          <li key={t.name} className="tensor-row" data-testid="recorded-input" data-input={t.name}>
            <code className="tensor-name">{t.name}</code>
            <Given t={t} />
          </li>
        ))}
      </ul>
    </div>
  );
}
