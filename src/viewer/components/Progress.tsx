/** Where each run is: backend, phase, node k of n, and where it runs; above them, in words, what runs now. */
import type { ReactNode } from 'react';
import type { RunState } from '../state/run-state.ts';
import { useApp } from '../state/store.ts';
import { fmtMs } from '../util/format.ts';

function phaseOf(r: RunState): string {
  const capturing = r.status === 'running' && r.phase === 'capture pass';
  if (capturing) return `capture pass · node ${r.nodes.length} of ${r.declaredNodes}`;
  // Before its capture pass a run shows no row: say how far it is (`timed runs · pass 4 of 9`).
  const p = r.progress;
  return r.status === 'running' && p && p.phase === r.phase ? `${r.phase} · pass ${p.done + 1} of ${p.total}` : r.phase;
}

/** One line: the run in progress, what it is for, and what comes next. */
function Now({ runs }: { runs: RunState[] }): ReactNode {
  const active = runs.find((r) => r.status === 'starting' || r.status === 'running');
  if (!active) return null;
  const next = runs.filter((r) => r.status === 'queued');
  const ref = runs.find((r) => r.role === 'reference');
  const edges = runs.filter((r) => r.role === 'edge' && r.status !== 'failed');
  const role =
    active.role === 'reference'
      ? edges.some((r) => r.nodes.length > 0)
        ? 'the reference: comparison columns fill in node by node'
        : edges.length > 0
          ? `the reference: rows appear as its nodes arrive; ${edges.map((r) => r.stream).join(', ')} fill${edges.length === 1 ? 's' : ''} in their comparison columns next`
          : 'the reference'
      : ref && ref.status !== 'done'
        ? 'rows stream in now; they are compared once the reference runs'
        : 'compared with the reference node by node';
  return (
    <p className="progress-now small" data-testid="progress-now" data-stream={active.stream} data-role={active.role} data-nodes={active.nodes.length} aria-live="polite">
      Running <strong>{active.stream}</strong> · {phaseOf(active)} · {role}
      {next.length > 0 && <span className="muted"> · then {next.map((r) => r.stream).join(', ')}</span>}
    </p>
  );
}

export function Progress(): ReactNode {
  const s = useApp();
  if (s.runs.length === 0 || s.source !== 'live') return null;
  return (
    <>
    <Now runs={s.runs} />
    <ul className="progress" data-testid="progress">
      {s.runs.map((r) => {
        const n = r.declaredNodes;
        const k = r.nodes.length;
        const p = r.progress;
        const capturing = r.status === 'running' && r.phase === 'capture pass';
        const frac = r.status === 'done' ? 1 : capturing && n > 0 ? 0.5 + (0.5 * Math.min(k, n)) / n : p ? (0.5 * p.done) / Math.max(1, p.total) : 0;
        return (
          <li key={r.stream} className={`status-${r.status}`} data-testid="progress-row" data-stream={r.stream} data-status={r.status} data-started={r.startedAt === null ? '' : Math.round(r.startedAt)} data-ended={r.endedAt === null ? '' : Math.round(r.endedAt)}>
            <div className="progress-head">
              <strong>{r.stream}</strong>
              <span className="small muted">{r.where}</span>
              <span className="small" data-testid="progress-phase">
                {r.status === 'done'
                  ? `done · ${k} nodes · ${fmtMs(r.elapsedMs())}`
                  : r.status === 'failed'
                    ? 'failed'
                    : phaseOf(r)}
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
    </>
  );
}
