/**
 * Desktop, Phones panel: the models exray serve has (bundled samples and uploads, by sha256), and
 * "Upload to server" for a model loaded from the user's files, so the server can run the reference of
 * phone sessions of that model (a phone can then pick it too).
 */
import type { ReactNode } from 'react';
import { useApp } from '../state/store.ts';
import { fmtBytes } from '../util/format.ts';
import { UploadStatus } from './PhoneModel.tsx';
import { ensureOnServer, refreshServerModels, useServerModels } from './server-models.ts';

const FORMAT: Record<string, string> = { 'tfjs-graph': 'TF.js graph', 'tfjs-layers': 'TF.js layers', onnx: 'ONNX' };

export function ServerModels(): ReactNode {
  const s = useApp();
  const sm = useServerModels();
  const m = s.model;
  const onServer = m ? sm.list.some((x) => x.sha256 === m.sha256) : false;
  const busy = sm.upload !== null && (sm.upload.state === 'checking' || sm.upload.state === 'uploading');
  return (
    <>
      <h3>
        Models on the server{' '}
        <button type="button" className="button tiny" data-testid="refresh-server-models" onClick={() => void refreshServerModels()}>
          Refresh
        </button>
      </h3>
      {m && m.origin === 'files' && (
        <p className="row">
          <button type="button" className="button small" data-testid="upload-model" disabled={busy || onServer} onClick={() => void ensureOnServer(m)} title="so the server can run the reference of phone sessions of this model">
            Upload to server
          </button>
          <span className="small muted">{onServer ? `${m.name} is on the server` : `${m.name} (${fmtBytes(m.bytes)}) is only in this browser`}</span>
        </p>
      )}
      <UploadStatus />
      {sm.error && <p className="small bad">{sm.error}</p>}
      {sm.list.length === 0 ? (
        <p className="small muted">{sm.loaded ? 'none (the bundled samples are listed when the server runs a reference)' : 'loading…'}</p>
      ) : (
        <div className="table-scroll">
          <table className="summary server-models" data-testid="server-models">
            <thead>
              <tr>
                <th>name</th>
                <th>format</th>
                <th>size</th>
                <th>origin</th>
              </tr>
            </thead>
            <tbody>
              {sm.list.map((x) => (
                <tr key={x.sha256} data-testid="server-model-row" data-sha={x.sha256} data-origin={x.origin} className={m?.sha256 === x.sha256 ? 'selected' : ''}>
                  <td data-label="name" title={`sha256 ${x.sha256}`}>
                    {x.name}
                  </td>
                  <td data-label="format">{FORMAT[x.format] ?? x.format}</td>
                  <td data-label="size">{fmtBytes(x.bytes)}</td>
                  <td data-label="origin">{x.origin === 'sample' ? 'bundled sample' : 'uploaded'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
