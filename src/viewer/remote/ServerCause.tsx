/**
 * In the Diagnosis panel, under an edge run opened from `exray serve`: what the server's diagnosis
 * concluded (`exray diagnose` on the server, with its own reference and replays), next to the causes
 * the page found from the two traces. Renders nothing for local runs and opened files.
 */
import type { ReactNode } from 'react';
import type { Cause } from '../../diagnose/index.ts';
import { InfoFindings } from '../components/Causes.tsx';
import type { RunState } from '../state/run-state.ts';
import { fmtPct } from '../util/format.ts';
import { resultOf, useRemote } from './remote-state.ts';

/** The causes and summary of a Diagnosis received as JSON, when it has that shape. */
function causesOf(d: unknown): { causes: Cause[]; info: Cause[]; summary: string | null } | null {
  if (typeof d !== 'object' || d === null) return null;
  const o = d as { causes?: unknown; info?: unknown; summary?: unknown };
  if (!Array.isArray(o.causes)) return null;
  const isCause = (c: unknown): c is Cause => typeof c === 'object' && c !== null && typeof (c as Cause).code === 'string' && typeof (c as Cause).detail === 'string';
  return { causes: o.causes.filter(isCause), info: Array.isArray(o.info) ? o.info.filter(isCause) : [], summary: typeof o.summary === 'string' ? o.summary : null };
}

export function ServerCause({ r }: { r: RunState }): ReactNode {
  const remote = useRemote();
  const session = r.remote?.session;
  if (!session || r.role !== 'edge') return null;
  const info = remote.sessions.find((s) => s.id === session);
  const res = info ? resultOf(info) : remote.results[session];
  if (!res || (!res.cause && !res.diagnosis)) {
    return (
      <p className="small muted" data-testid="server-diagnosis" data-cause="">
        exray serve: no diagnosis yet.
      </p>
    );
  }
  const d = causesOf(res.diagnosis);
  return (
    <div className="server-diagnosis" data-testid="server-diagnosis" data-cause={res.cause ?? ''}>
      <p className="small">
        <strong>exray serve</strong>: {res.cause ? <code>{res.cause}</code> : 'no cause'}
        {d?.summary ? <span className="muted"> — {d.summary}</span> : null}
      </p>
      {d && d.causes.length > 1 && (
        <ol className="small">
          {d.causes.slice(0, 4).map((c, i) => (
            <li key={`${c.code}-${i}`}>
              <code>{c.code}</code> {Number.isFinite(c.confidence) ? fmtPct(c.confidence) : ''} {c.node ? `at ${c.node}` : ''} <span className="muted">{c.detail}</span>
            </li>
          ))}
        </ol>
      )}
      {d && <InfoFindings info={d.info} />}
    </div>
  );
}
