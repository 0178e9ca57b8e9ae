/** Step 1: a model — a bundled sample, or the user's files (drop / pick, folders too). */
import type { ReactNode } from 'react';
import { filesFromInput } from '../load/dropped-files.ts';
import { loadModelFiles, selectSampleModel } from '../state/controller.ts';
import { useApp } from '../state/store.ts';
import { fmtBytes, fmtShape } from '../util/format.ts';
import { DropZone } from './DropZone.tsx';
import { PreprocessForm } from './PreprocessForm.tsx';

export function ModelPanel(): ReactNode {
  const s = useApp();
  const m = s.model;
  return (
    <section className="panel" data-testid="model-panel" aria-labelledby="model-h">
      <h2 id="model-h">
        <span className="step">1</span> Model
      </h2>
      <label className="field">
        <span>Sample model</span>
        <select
          data-testid="sample-model-select"
          value={m?.origin === 'sample' ? m.name : ''}
          disabled={!s.index || s.running}
          onChange={(e) => e.target.value && void selectSampleModel(e.target.value)}
        >
          <option value="">{s.index ? 'choose a sample…' : s.indexError ? 'samples unavailable' : 'loading…'}</option>
          {s.index?.models.map((e) => (
            <option key={e.name} value={e.name} disabled={!e.ready} title={e.problem ?? e.card.description}>
              {e.name} ({e.card.format === 'tfjs-layers' ? 'layers' : e.card.format === 'onnx' ? 'ONNX' : 'graph'}, {fmtBytes(e.bytes)})
              {e.ready ? '' : ' — not extracted'}
            </option>
          ))}
        </select>
      </label>
      <DropZone testId="model-drop" label="drop model files here" onFiles={(f) => void loadModelFiles(f)}>
        <p>
          Drop <code>model.json</code> + weight shards, or a <code>.onnx</code> file (+ <code>exray.json</code>), or a folder
        </p>
        <div className="row">
          <label className="button small">
            Pick files
            <input
              type="file"
              multiple
              hidden
              data-testid="model-file-input"
              accept=".json,.bin,.onnx,application/json,application/octet-stream"
              onChange={(e) => {
                void loadModelFiles(filesFromInput(e.target.files));
                e.target.value = '';
              }}
            />
          </label>
          <label className="button small">
            Pick a folder
            <input
              type="file"
              hidden
              data-testid="model-folder-input"
              {...{ webkitdirectory: '' }}
              onChange={(e) => {
                void loadModelFiles(filesFromInput(e.target.files));
                e.target.value = '';
              }}
            />
          </label>
        </div>
      </DropZone>
      {s.modelLoading && (
        <p className="muted" data-testid="model-loading">
          Loading {s.modelLoading}…
        </p>
      )}
      {s.modelProblems.length > 0 && (
        <ul className="errors" data-testid="model-errors" role="alert">
          {s.modelProblems.map((p, i) => (
            <li key={i}>
              <strong>{p.file}</strong>: {p.problem}
            </li>
          ))}
        </ul>
      )}
      {m && (
        <div className="model-info" data-testid="model-info">
          <div>
            <strong data-testid="model-name">{m.name}</strong> <span className="muted">{m.format}</span>
          </div>
          <div className="muted small">
            {m.format === 'onnx' && m.tensorInputs
              ? `inputs ${[...(m.inputName ? [`${m.inputName} ${fmtShape(m.inputShape)} ${m.inputDtype} (image)`] : []), ...m.tensorInputs.map((t) => `${t.name} ${fmtShape(t.shape)} ${t.dtype}`)].join(', ')}`
              : `input ${m.inputName ? `${m.inputName} ` : ''}${fmtShape(m.inputShape)} ${m.inputDtype}`}{' '}
            · {fmtBytes(m.bytes)} · {m.format === 'onnx' ? 'onnxruntime-web (reference: wasm)' : `${m.shards.length} shard${m.shards.length === 1 ? '' : 's'}`}
            {m.sha256 ? ` · sha256 ${m.sha256.slice(0, 12)}…` : ''}
          </div>
          {m.card && <div className="small card-desc">{m.card.description}</div>}
          {m.ignored.length > 0 && <div className="small muted">ignored (not part of the model): {m.ignored.join(', ')}</div>}
        </div>
      )}
      {m && s.spec && <PreprocessForm spec={s.spec} fromCard={s.specFromCard} hasCard={m.card !== null} />}
    </section>
  );
}
