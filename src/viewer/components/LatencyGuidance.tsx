/**
 * Latency guidance (`latencyReport` over every finished run of the model): per backend the slowest
 * nodes with their share and ratio to the node's fastest backend, CPU fall-backs and read-backs, notes.
 * Click a node: inspect it (in the selected run).
 */
import type { ReactNode } from 'react';
import type { LatencyReport } from '../../diagnose/index.ts';
import { latencyFor, nodeKey } from '../state/diagnosis.ts';
import { getState, setState, useApp } from '../state/store.ts';
import { fmtMs, fmtPct } from '../util/format.ts';

function inspect(node: string): void {
  const s = getState();
  const run = s.runs.find((r) => r.stream === s.selectedRun && r.role === 'edge') ?? s.runs.find((r) => r.role === 'edge' && r.comparison);
  if (!run) return;
  setState({ selectedRun: run.stream, selectedNode: nodeKey(run, node) });
}

function ratioText(r: LatencyReport, node: string, backend: string): string {
  const n = r.nodes.find((x) => x.node === node);
  const ratio = n?.ratio[backend];
  if (r.backends.length < 2 || ratio === null || ratio === undefined) return '';
  return ratio <= 1.0001 ? 'fastest' : `×${ratio < 10 ? ratio.toFixed(1) : ratio.toFixed(0)} vs ${n?.fastest ?? '?'}`;
}

export function LatencyGuidance(): ReactNode {
  const s = useApp();
  const r = latencyFor(s.runs);
  if (!r) return null;
  if ('error' in r) {
    return (
      <section className="panel" data-testid="latency-guidance" aria-labelledby="lat-g-h">
        <h2 id="lat-g-h">Latency guidance</h2>
        <p className="bad">latency report failed: {r.error}</p>
      </section>
    );
  }
  return (
    <section className="panel" data-testid="latency-guidance" aria-labelledby="lat-g-h">
      <h2 id="lat-g-h">Latency guidance</h2>
      <ul className="small" data-testid="latency-backends">
        {r.backends.map((b) => (
          <li key={b.key} data-testid="latency-backend" data-backend={b.key}>
            <strong>{b.key}</strong>: median {fmtMs(b.medianMs)}, first run {fmtMs(b.firstRunMs)}, kernels {fmtMs(b.kernelMs)} <span className="muted">({b.clock})</span>
          </li>
        ))}
      </ul>
      <div className="env-grid">
        {r.slowest.map((group) => (
          <div key={group.backend} data-testid="slowest-nodes" data-backend={group.backend}>
            <h3 className="small">slowest on {group.backend}</h3>
            <table className="small">
              <tbody>
                {group.nodes.map((n) => {
                  const prefix = `${group.backend}: `;
                  const reasons = (r.nodes.find((x) => x.node === n.node)?.reasons ?? []).filter((x) => x.startsWith(prefix)).map((x) => x.slice(prefix.length));
                  return (
                    <tr key={n.node} data-testid="slow-node" data-node={n.node} title={reasons.join('\n')}>
                      <td>
                        <button type="button" className="link" title={n.node} onClick={() => inspect(n.node)}>
                          {n.node}
                        </button>{' '}
                        <span className="muted">{n.op}</span>
                        {reasons.map((x) => (
                          <div key={x} className="muted" data-testid="slow-node-reason">
                            {x}
                          </div>
                        ))}
                      </td>
                      <td className="num">{fmtMs(n.ms)}</td>
                      <td className="num">{fmtPct(n.share)}</td>
                      <td className="num muted">{ratioText(r, n.node, group.backend)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ))}
      </div>
      <h3 className="small">CPU fall-backs and read-backs</h3>
      {r.flags.length === 0 ? (
        <p className="small muted" data-testid="latency-flags-none">
          none seen in the traces
        </p>
      ) : (
        <ul className="small" data-testid="latency-flags">
          {r.flags.slice(0, 20).map((f, i) => (
            <li key={`${f.backend}-${f.kernel}-${f.node ?? ''}-${i}`} data-testid="latency-flag" data-kind={f.kind}>
              <strong>{f.backend}</strong>: {f.kernel} in {f.node ?? '(outside nodes)'} — {f.reason}
            </li>
          ))}
          {r.flags.length > 20 && <li className="muted">… {r.flags.length - 20} more</li>}
        </ul>
      )}
      {r.notes.map((n) => (
        <p key={n} className="small muted" data-testid="latency-note">
          note: {n}
        </p>
      ))}
    </section>
  );
}
