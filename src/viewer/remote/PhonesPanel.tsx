/**
 * Desktop, served by `exray serve`: pair a phone (QR code + URL from the server), the paired devices,
 * which backend the server's reference runs on, the models it has (ServerModels.tsx), and the sessions
 * as they stream (Open / Download / Delete). Open puts the session in the page's results (open-session.ts).
 */
import type { ReactNode } from 'react';
import type { DeviceInfo, SessionInfo } from '../../transport/wire.ts';
import { useApp } from '../state/store.ts';
import type { RunState } from '../state/run-state.ts';
import { captureNext, deleteSession, downloadSession, resultOf, revokeDevice, setReferenceBackend, useRemote } from './remote-state.ts';
import { openRemoteSession } from './open-session.ts';
import { ServerModels } from './ServerModels.tsx';
import { describeUserAgent, gpuOf } from './user-agent.ts';

function when(iso: string | null): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

function Pairing(): ReactNode {
  const r = useRemote();
  const p = r.pairing;
  return (
    <div className="pairing">
      {p?.qrSvg ? (
        <img className="qr" data-testid="pairing-qr" alt="QR code of the phone URL" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(p.qrSvg)}`} />
      ) : (
        <div className="qr placeholder" data-testid="pairing-qr" aria-label="QR code loading" />
      )}
      <div className="pairing-text">
        <p className="small">Scan with the phone's camera, or open on the phone:</p>
        <code className="url" data-testid="pairing-url">
          {p?.url ?? '…'}
        </code>
        {p && p.lanUrls.length > 1 && <p className="small muted">This machine is also reachable at {p.lanUrls.join(', ')}.</p>}
        <p className="small muted">The link pairs one phone, once; a new one appears after each pairing.</p>
      </div>
    </div>
  );
}

/** The one line that traces the user's own app (src/agent/script.ts), and its status. */
function AgentLine(): ReactNode {
  const r = useRemote();
  if (!r.agent) return null;
  const line = r.agent.line;
  return (
    <div className="agent-line">
      <h3>Your own app</h3>
      <p className="small">Add this line to your app's page, after its TF.js / onnxruntime-web script tags; its inferences stream here:</p>
      <code className="url" data-testid="agent-line">
        {line}
      </code>{' '}
      <button type="button" className="button tiny" data-testid="copy-agent-line" onClick={() => void navigator.clipboard?.writeText(line).catch(() => {})}>
        Copy
      </button>
      <p className="small muted">Or from code: <code>{"import { attach } from 'exray/agent'"}</code> (docs/agent.md). The token in the line lets a page stream traces and upload its model here, nothing else.</p>
    </div>
  );
}

function DeviceRow({ d }: { d: DeviceInfo }): ReactNode {
  const r = useRemote();
  if (d.id === 'agent') {
    return (
      <li data-testid="device-row" data-device={d.id} data-online={d.online ? 'true' : 'false'}>
        <span className={`dot ${d.online ? 'on' : 'off'}`} aria-label={d.online ? 'online' : 'offline'} />
        <strong>{d.name}</strong> <span className="small muted">{d.online ? 'online' : `last seen ${when(d.lastSeen)}`}</span>
        <button type="button" className="button tiny" data-testid="capture-next" disabled={!d.online} onClick={() => captureNext(d.id)} title="the app's next inference is captured, whatever its sampling">
          Capture next inference
        </button>
        {r.captureNote && (
          <span className="small muted" data-testid="capture-note">
            {' '}
            {r.captureNote}
          </span>
        )}
      </li>
    );
  }
  return (
    <li data-testid="device-row" data-device={d.id} data-online={d.online ? 'true' : 'false'}>
      <span className={`dot ${d.online ? 'on' : 'off'}`} aria-label={d.online ? 'online' : 'offline'} />
      <strong title={d.userAgent}>{d.name}</strong> {describeUserAgent(d.userAgent) !== d.name && <span className="small muted">{describeUserAgent(d.userAgent)}</span>}{' '}
      <span className="small muted">{d.online ? 'online' : d.lastSeen ? `last seen ${when(d.lastSeen)}` : 'offline'}</span>
      <button type="button" className="button tiny" data-testid="revoke-device" onClick={() => void revokeDevice(d.id)} title="unpair: its token stops working at once">
        Revoke
      </button>
    </li>
  );
}

function SessionRow({ info, open }: { info: SessionInfo; open: RunState | undefined }): ReactNode {
  const res = resultOf(info);
  const gpu = info.gpu ?? gpuOf(open?.start?.environment ?? undefined);
  const progress = info.declaredNodes > 0 ? `${info.nodes}/${info.declaredNodes} nodes` : `${info.nodes} nodes`;
  return (
    <tr data-testid="session-row" data-session={info.id} data-status={info.status} data-verdict={res.verdict ?? ''} data-cause={res.cause ?? ''} className={open ? 'selected' : ''}>
      <td data-label="device">
        <div title={info.userAgent}>{info.device || describeUserAgent(info.userAgent)}</div>
        <div className="small muted">{[describeUserAgent(info.userAgent), gpu].filter((x) => x && x !== info.device).join(' · ')}</div>
      </td>
      <td data-label="run">
        <div>
          {info.model.name} · <strong>{info.label}</strong>
        </div>
        <div className="small muted">
          {info.backend} · {info.capture} · {when(info.createdAt)}
        </div>
      </td>
      <td data-label="status">
        <span className={`badge s-${info.status}`}>{info.status}</span> <span className="small muted">{progress}</span>
        {info.reason && <div className="small bad">{info.reason}</div>}
        {info.referenceNote && <div className="small muted">reference: {info.referenceNote}</div>}
      </td>
      <td data-label="verdict">
        {res.verdict ? <span className={`badge v-${res.verdict}`}>{res.verdict}</span> : <span className="muted">…</span>}
        {res.firstDivergent && <div className="small">first divergent: {res.firstDivergent}</div>}
      </td>
      <td data-label="cause">{res.cause ? <code>{res.cause}</code> : <span className="muted">–</span>}</td>
      <td className="actions" data-label="" data-session={info.id}>
        <span className="buttons">
          <button type="button" className="button tiny primary" data-testid="open-session" onClick={() => openRemoteSession(info)}>
            {open ? 'Reopen' : 'Open'}
          </button>
          <button type="button" className="button tiny" data-testid="download-session" disabled={info.status === 'streaming'} onClick={() => void downloadSession(info)} title="the phone's trace as .exray">
            Download
          </button>
          <button type="button" className="button tiny" data-testid="delete-session" onClick={() => void deleteSession(info.id)}>
            Delete
          </button>
        </span>
      </td>
    </tr>
  );
}

export function PhonesPanel(): ReactNode {
  const r = useRemote();
  const s = useApp();
  const openEdge = (id: string): RunState | undefined => s.runs.find((x) => x.role === 'edge' && x.remote?.session === id);
  const link = r.link;
  return (
    <section className="panel phones" data-testid="phones-panel" aria-labelledby="phones-h">
      <h2 id="phones-h">
        Phones{' '}
        <span className="small muted" data-testid="viewer-link" data-state={link?.state ?? 'connecting'}>
          {!link || link.state === 'connecting' ? `connecting to exray serve…${link?.reason ? ` (${link.reason})` : ''}` : link.state === 'open' ? 'live' : `disconnected: ${link.reason ?? ''}`}
        </span>
      </h2>
      {r.error && (
        <p className="errors" role="alert" data-testid="phones-error">
          {r.error}
        </p>
      )}
      <Pairing />
      <label className="field inline">
        <span>Reference on this machine</span>
        <select data-testid="reference-backend" value={r.referenceBackend ?? 'cpu'} onChange={(e) => void setReferenceBackend(e.target.value === 'wasm' ? 'wasm' : 'cpu')}>
          <option value="cpu">cpu (TF.js)</option>
          <option value="wasm">wasm</option>
        </select>
        <span className="small muted">for sessions that start from now on</span>
      </label>
      <h3>Paired devices</h3>
      {r.devices.length === 0 ? (
        <p className="small muted">none yet</p>
      ) : (
        <ul className="devices">
          {r.devices.map((d) => (
            <DeviceRow key={d.id} d={d} />
          ))}
        </ul>
      )}
      <AgentLine />
      <ServerModels />
      <h3>Sessions</h3>
      {r.sessions.length === 0 ? (
        <p className="small muted">A run on a paired phone appears here while it streams.</p>
      ) : (
        <div className="table-scroll">
          <table className="summary sessions">
            <thead>
              <tr>
                <th>device</th>
                <th>run</th>
                <th>status</th>
                <th>verdict</th>
                <th>cause</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {r.sessions.map((info) => (
                <SessionRow key={info.id} info={info} open={openEdge(info.id)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
