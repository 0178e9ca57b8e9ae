/**
 * One cause of a diagnosis (code, confidence, node: click to inspect it, detail), a node link, and the
 * single-node replays' own vs inherited error per replayed node.
 */
import type { ReactNode } from 'react';
import type { Cause, NodeAttribution } from '../../diagnose/index.ts';
import { nodeKey } from '../state/diagnosis.ts';
import type { RunState } from '../state/run-state.ts';
import { setState } from '../state/store.ts';
import { fmtErr, fmtMs, fmtPct } from '../util/format.ts';

export function CauseItem({ r, c }: { r: RunState; c: Cause }): ReactNode {
  return (
    <li data-testid="cause" data-code={c.code} data-confidence={c.confidence}>
      <span className={`badge ${c.code === 'none' ? 'v-ok' : 'v-diverged'}`}>{c.code}</span> <span className="small muted">{fmtPct(c.confidence)}</span>
      {c.node && (
        <>
          {' at '}
          <button type="button" className="link" data-testid="cause-node" onClick={() => setState({ selectedRun: r.stream, selectedNode: nodeKey(r, c.node!) })}>
            {c.node}
          </button>
        </>
      )}
      <div className="small" data-testid="cause-detail">
        {c.detail}
      </div>
    </li>
  );
}

export function NodeButton({ r, name }: { r: RunState; name: string }): ReactNode {
  return (
    <button type="button" className="link" onClick={() => setState({ selectedRun: r.stream, selectedNode: nodeKey(r, name) })}>
      {name}
    </button>
  );
}

export interface ReplaySummary {
  status: 'running' | 'done' | 'failed' | 'none';
  backend: string;
  /** Nodes asked for. */
  requested: number;
  ms: number | null;
  note: string | null;
}

/**
 * Own vs inherited error of the replayed nodes (largest own error first, 8 shown): each node run alone
 * on the reference backend with the edge's recorded inputs. own = edge vs replay, inherited = replay vs
 * reference.
 */
export function ReplaySplit({ r, nodes, s }: { r: RunState; nodes: readonly NodeAttribution[]; s: ReplaySummary }): ReactNode {
  const replayed = nodes.filter((a) => a.own !== null).sort((a, b) => (b.own ?? 0) - (a.own ?? 0));
  const failed = new Set(nodes.filter((a) => a.replayNote).map((a) => a.node)).size;
  const head =
    s.status === 'running'
      ? `single-node replay of ${s.requested} nodes on ${s.backend}…`
      : s.status === 'failed'
        ? `single-node replay failed: ${s.note ?? 'unknown error'}`
        : s.status === 'none' || s.requested === 0
          ? `no single-node replay${s.note ? `: ${s.note}` : ''}`
          : `single-node replay on ${s.backend}: ${new Set(replayed.map((a) => a.node)).size} of ${s.requested} nodes replayed${failed ? ` (${failed} could not be)` : ''}${s.ms !== null ? `, ${fmtMs(s.ms)}` : ''}`;
  return (
    <div data-testid="replay-split" data-status={s.status} data-requested={s.requested} data-replayed={replayed.length}>
      <p className="small muted">{head}</p>
      {replayed.length > 0 && (
        <table className="small">
          <thead>
            <tr>
              <th>node</th>
              <th>op</th>
              <th title="edge vs reference">total nrmse</th>
              <th title="edge vs the node replayed alone on the edge's inputs">own</th>
              <th title="the replay vs the reference: what the node's inputs carried in">inherited</th>
            </tr>
          </thead>
          <tbody>
            {replayed.slice(0, 8).map((a) => (
              <tr key={a.key} data-testid="replay-node" data-node={a.node} data-own={a.own ?? ''} data-inherited={a.inherited ?? ''}>
                <td>
                  <NodeButton r={r} name={a.node} />
                </td>
                <td>{a.op}</td>
                <td>{fmtErr(a.total)}</td>
                <td className={(a.own ?? 0) > 1e-3 ? 'bad' : ''}>{fmtErr(a.own)}</td>
                <td>{fmtErr(a.inherited)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
