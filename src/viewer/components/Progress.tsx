/** Where each run is: backend, phase, node k of n, and where it runs. */
import type { ReactNode } from 'react';
import { useApp } from '../state/store.ts';
import { fmtMs } from '../util/format.ts';

export function Progress(): ReactNode {
  const s = useApp();
  if (s.runs.length === 0 || s.source !== 'live') return null;
  return (
    <ul className="progress" data-testid="progress">
      {s.runs.map((r) => {
        const n = r.declaredNodes;
        const k = r.nodes.length;
        const p = r.progress;
        const capturing = r.status === 'running' && r.phase === 'capture pass';
        const frac = r.status === 'done' ? 1 : capturing && n > 0 ? 0.5 + (0.5 * Math.min(k, n)) / n : p ? (0.5 * p.done) / Math.max(1, p.total) : 0;
        return (
          <li key={r.stream} className={`status-${r.status}`} data-testid="progress-row" data-stream={r.stream} data-status={r.status}>
            <div className="progress-head">
              <strong>{r.stream}</strong>
              <span className="small muted">{r.where}</span>
              <span className="small" data-testid="progress-phase">
                {r.status === 'done'
                  ? `done · ${k} nodes · ${fmtMs(r.endedAt !== null ? r.endedAt - r.createdAt : null)}`
                  : r.status === 'failed'
                    ? 'failed'
                    : capturing
                      ? `capture pass · node ${k} of ${n}`
                      : r.phase}
              </span>
            </div>
            <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(frac * 100)}>
              <div style={{ width: `${frac * 100}%` }} />
            </div>
            {r.error && <div className="errors small">{r.error}</div>}
          </li>
        );
      })}
    </ul>
  );
}
