/**
 * "Diagnose against the original photo" for an opened edge `.exray` (state/photo-diagnosis.ts): the
 * photo picker / drop zone, then the causes as `exray diagnose --image` names them, with the input
 * search's evidence (what the canonical pipeline does vs what explains the edge's input).
 */
import type { ReactNode } from 'react';
import type { InputExplanation, InputFit } from '../../diagnose/index.ts';
import { filesFromInput, kindOf, type PickedFile } from '../load/dropped-files.ts';
import { diagnoseAgainstPhoto, photoDiagnosisResult, type PhotoDiagnosis } from '../state/photo-diagnosis.ts';
import type { RunState } from '../state/run-state.ts';
import { setState } from '../state/store.ts';
import { CauseItem, InfoFindings, NodeButton, ReplaySplit } from './Causes.tsx';
import { DropZone } from './DropZone.tsx';

function onPhotos(files: PickedFile[]): void {
  const photo = files.find((f) => kindOf(f) === 'image') ?? files[0];
  if (photo) void diagnoseAgainstPhoto(photo.file, photo.path);
  else setState({ notice: 'give one photo: the original the edge pre-processed' });
}

export function PhotoPicker(): ReactNode {
  return (
    <DropZone testId="diagnose-photo-drop" label="drop the original photo here" onFiles={onPhotos}>
      <label className="button small">
        Diagnose against the original photo
        <input
          type="file"
          hidden
          accept="image/*"
          data-testid="diagnose-photo-input"
          onChange={(e) => {
            onPhotos(filesFromInput(e.target.files));
            e.target.value = '';
          }}
        />
      </label>
      <span className="small muted drop-hint">
        (or drop it here): the photo's canonical pre-processing is compared with the trace's recorded input, and the reference runs on it, as{' '}
        <code>exray diagnose --image</code> does.
      </span>
    </DropZone>
  );
}

const CH = ['R', 'G', 'B'];

function channels(e: InputExplanation): string {
  return e.channels.map((c) => CH[c] ?? String(c)).join('');
}

function resize(e: InputExplanation): string {
  const r = e.resize;
  const how = [r.method, r.alignCorners ? 'align corners' : '', r.halfPixelCenters ? 'half-pixel' : '', r.antialias ? 'antialias' : ''].filter(Boolean).join(' ');
  return `${how}, ${r.fit}`;
}

function values(e: InputExplanation): string {
  const lo = e.affine.scale.map((s, i) => Math.min(e.affine.offset[i]!, s * 255 + e.affine.offset[i]!));
  const hi = e.affine.scale.map((s, i) => Math.max(e.affine.offset[i]!, s * 255 + e.affine.offset[i]!));
  const f = (x: number): string => String(Number(x.toPrecision(3)));
  return `[${f(Math.min(...lo))}, ${f(Math.max(...hi))}]`;
}

/** The input search's steps side by side: what the card's pipeline does, what explains the edge's input. */
function InputEvidence({ fit }: { fit: InputFit }): ReactNode {
  const rows: [string, string, string][] = [
    ['EXIF orientation applied', String(fit.canonical.appliedOrientation), String(fit.best.appliedOrientation)],
    ['memory order', fit.canonical.memoryOrder, fit.best.memoryOrder],
    ['channels', channels(fit.canonical), channels(fit.best)],
    ['resize', resize(fit.canonical), resize(fit.best)],
    ['alpha', fit.canonical.alpha, fit.best.alpha],
    ['pixels 0..255 →', values(fit.canonical), values(fit.best)],
  ];
  return (
    <div data-testid="input-evidence" data-matches={fit.matches ? 'true' : 'false'} data-explained={fit.explained ? 'true' : 'false'}>
      <p className="small">
        Input: {fit.matches ? 'matches the canonical pipeline' : fit.explained ? 'explained by another pipeline' : 'not explained by any candidate pipeline'} (
        {fit.canonicalResidualLevels !== null ? `${fit.canonicalResidualLevels.toFixed(2)} levels rms from the canonical input, ` : ''}
        {fit.best.residualLevels.toFixed(2)} after the best fit; search {fit.ms} ms).
      </p>
      <table className="small">
        <thead>
          <tr>
            <th>step</th>
            <th>expected (card)</th>
            <th>the edge's input</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([step, a, b]) => (
            <tr key={step} className={a === b ? 'muted' : 'bad'}>
              <td>{step}</td>
              <td>{a}</td>
              <td>{b}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {fit.notes.map((n) => (
        <p key={n} className="small muted">
          {n}
        </p>
      ))}
    </div>
  );
}

export function PhotoCauses({ r, d }: { r: RunState; d: PhotoDiagnosis }): ReactNode {
  const result = photoDiagnosisResult(d);
  const top = result && !('error' in result) ? (result.causes[0]?.code ?? 'none') : d.status === 'failed' || result ? 'error' : 'pending';
  return (
    <div data-testid="diagnosis-run" data-stream={r.stream} data-photo="true" data-status={d.status} data-top-cause={top}>
      <p>
        <strong>{r.stream}</strong>{' '}
        <span className="small muted">
          against the original photo <code>{d.photoName}</code>
          {d.model && (
            <>
              {' '}
              · reference: {d.model} on {d.referenceBackend}, canonical input
            </>
          )}
        </span>
      </p>
      {d.status === 'running' && (
        <p className="small" data-testid="photo-diagnosis-phase">
          {d.phase}…
        </p>
      )}
      {d.status === 'failed' && (
        <p className="bad" data-testid="photo-diagnosis-error">
          diagnosis failed: {d.error}
        </p>
      )}
      {result && 'error' in result && <p className="bad">diagnosis failed: {result.error}</p>}
      {result && !('error' in result) && (
        <>
          <p className="small muted" data-testid="photo-diagnosis-summary">
            {result.summary}
          </p>
          <ol data-testid="causes">{result.causes.map((c, i) => <CauseItem key={`${c.code}-${i}`} r={r} c={c} />)}</ol>
          <InfoFindings info={result.info} />
          {result.firstDivergentNode && (
            <p className="small" data-testid="diagnosis-first-divergent">
              error enters at <NodeButton r={r} name={result.firstDivergentNode} />.
            </p>
          )}
          <ReplaySplit
            r={r}
            nodes={result.nodes}
            s={{ status: d.replays ? 'done' : 'none', backend: d.referenceBackend, requested: d.replays?.length ?? 0, ms: d.timings['replay'] ?? null, note: d.edge.header.capture === 'tensors' ? null : `a \`${d.edge.header.capture}\` trace records no node inputs to replay` }}
            {...(d.replays ? { repro: { edge: d.edge, edgeFile: r.where, results: d.replays, backend: d.referenceBackend } } : {})}
          />
          {result.warnings.map((w) => (
            <p key={w} className="small muted" data-testid="diagnosis-warning">
              {w}
            </p>
          ))}
        </>
      )}
      {d.fitted?.fit && <InputEvidence fit={d.fitted.fit} />}
      {d.status !== 'running' && d.timings['total'] !== undefined && (
        <p className="small muted" data-testid="photo-diagnosis-time" data-ms={d.timings['total']}>
          {d.timings['total']} ms:{' '}
          {Object.entries(d.timings)
            .filter(([k]) => k !== 'total')
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}
          .
        </p>
      )}
    </div>
  );
}
