/**
 * The phone's model picker: the bundled samples, the models on exray serve (uploaded by the desktop or
 * a phone, loaded with the token from `/api/models/<sha256>/`), or the phone's own files (uploaded to
 * the server before the first run, so the server can run the reference). Shows the upload's state.
 */
import type { ReactNode } from 'react';
import { filesFromInput } from '../load/dropped-files.ts';
import { loadModelFiles, selectSampleModel } from '../state/controller.ts';
import { useApp } from '../state/store.ts';
import { fmtBytes } from '../util/format.ts';
import { loadServerModel, useServerModels } from './server-models.ts';

const SERVER = 'server:';

export function UploadStatus(): ReactNode {
  const sm = useServerModels();
  const u = sm.upload;
  if (!u) return null;
  return (
    <p className={`small ${u.state === 'failed' ? 'bad' : 'muted'}`} role={u.state === 'failed' ? 'alert' : 'status'} data-testid="model-upload" data-state={u.state} data-sha={u.sha256}>
      {u.name}: {u.text}
    </p>
  );
}

export function PhoneModel(): ReactNode {
  const s = useApp();
  const sm = useServerModels();
  const sampleNames = new Set(s.index?.models.map((m) => m.name) ?? []);
  // The server's own samples are the page's bundled ones: listed once, from the page's index.
  const onServer = sm.list.filter((m) => m.origin === 'uploaded' || !sampleNames.has(m.name));
  const value = s.model?.origin === 'sample' ? s.model.name : s.model?.origin === 'server' ? `${SERVER}${s.model.sha256}` : '';
  const samples = s.index?.models.map((m) => (
    <option key={m.name} value={m.name} disabled={!m.ready}>
      {m.name}
    </option>
  ));
  return (
    <>
      <label className="field">
        <span>Model</span>
        <select
          data-testid="sample-model-select"
          value={value}
          disabled={(!s.index && onServer.length === 0) || s.running}
          onChange={(e) => {
            const v = e.target.value;
            if (v.startsWith(SERVER)) void loadServerModel(v.slice(SERVER.length));
            else if (v) void selectSampleModel(v);
          }}
        >
          <option value="">{s.index || onServer.length > 0 ? 'choose a model…' : s.indexError ? 'models unavailable' : 'loading…'}</option>
          {onServer.length === 0 ? samples : <optgroup label="samples">{samples}</optgroup>}
          {onServer.length > 0 && (
            <optgroup label="on the server">
              {onServer.map((m) => (
                <option key={m.sha256} value={`${SERVER}${m.sha256}`} data-testid="server-model-option">
                  {m.name} ({m.format === 'onnx' ? 'ONNX' : m.format === 'tfjs-layers' ? 'layers' : 'graph'}, {fmtBytes(m.bytes)})
                </option>
              ))}
            </optgroup>
          )}
        </select>
      </label>
      <div className="row">
        <label className="button small">
          Model files
          <input
            type="file"
            multiple
            hidden
            data-testid="phone-model-file-input"
            accept=".json,.bin,.onnx,application/json,application/octet-stream"
            disabled={s.running}
            onChange={(e) => {
              void loadModelFiles(filesFromInput(e.target.files));
              e.target.value = '';
            }}
          />
        </label>
        <span className="small muted">{s.model?.origin === 'files' ? 'your files: uploaded to the server before the first run' : 'or your own: model.json + shards, or a .onnx (+ exray.json)'}</span>
      </div>
      {sm.error && <p className="small bad">{sm.error}</p>}
      <UploadStatus />
    </>
  );
}
