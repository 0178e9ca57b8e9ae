/** One cause of a diagnosis (code, confidence, node: click to inspect it, detail) and a node link. */
import type { ReactNode } from 'react';
import type { Cause } from '../../diagnose/index.ts';
import { nodeKey } from '../state/diagnosis.ts';
import type { RunState } from '../state/run-state.ts';
import { setState } from '../state/store.ts';
import { fmtPct } from '../util/format.ts';

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
