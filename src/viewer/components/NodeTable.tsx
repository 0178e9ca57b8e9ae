/** Every node output of a run: virtualised (thousands of rows), sortable, filterable. Click to inspect. */
import { useMemo, useState, type ReactNode } from 'react';
import { nodeRows, type NodeRow } from '../state/node-rows.ts';
import type { RunState } from '../state/run-state.ts';
import { referenceRun } from '../state/session.ts';
import { setState, useApp } from '../state/store.ts';
import { withWaitingRows, type TableRows } from '../state/table-rows.ts';
import { NodeRows } from './NodeRows.tsx';

type SortKey = 'index' | 'name' | 'op' | 'nrmse' | 'maxAbs' | 'cosine' | 'ms' | 'verdict';

const COLUMNS: { key: SortKey; label: string; className?: string }[] = [
  { key: 'index', label: '#' },
  { key: 'name', label: 'node' },
  { key: 'op', label: 'op' },
  { key: 'nrmse', label: 'nrmse' },
  { key: 'maxAbs', label: 'max |Δ|', className: 'wide-only' },
  { key: 'cosine', label: 'cosine', className: 'wide-only' },
  { key: 'ms', label: 'time' },
  { key: 'verdict', label: 'verdict' },
];

function compare(a: NodeRow, b: NodeRow, key: SortKey): number {
  const va = a[key];
  const vb = b[key];
  if (typeof va === 'string' || typeof vb === 'string') return String(va).localeCompare(String(vb));
  const na = va ?? -Infinity;
  const nb = vb ?? -Infinity;
  return na === nb ? a.index - b.index || a.outputIndex - b.outputIndex : na - nb;
}

/**
 * The table's rows for `run`: its own, and while it streams (or waits its turn) a waiting row for each
 * node the reference has reached and it has not, so rows appear from whichever run is first.
 */
function tableRows(run: RunState, ref: RunState | undefined): TableRows {
  const own = nodeRows(run, ref);
  const streaming = run.status === 'queued' || run.status === 'starting' || run.status === 'running';
  if (!ref || run === ref || run.role !== 'edge' || run.comparison || !streaming) return { rows: own, own: own.length, waiting: 0 };
  return withWaitingRows(own, nodeRows(ref, undefined), ref.stream);
}

/** What a run is doing before its first node arrives (`cpu (reference) is in its timed runs`). */
function notYet(runs: RunState[]): string {
  const active = runs.find((r) => r.status === 'starting' || r.status === 'running');
  if (!active) return 'No node yet: rows appear as the run reaches each node.';
  return `No node yet: rows appear node by node when ${active.stream} reaches its capture pass (now: ${active.phase}).`;
}

/** Why the table has no row, in words (a filter that matches nothing, or nothing received yet). */
function EmptyRows(p: { rows: number; onlyDiverged: boolean; filtered: boolean; compared: boolean; streaming: string | null }): ReactNode {
  let text: string;
  if (p.rows === 0) text = p.streaming ?? 'This run recorded no node.';
  else if (p.onlyDiverged && !p.filtered) text = p.compared ? 'No node diverged: every node output is within the tolerance.' : 'No node has diverged so far (the comparison is not complete).';
  else text = `No node matches the filters (${p.rows} node outputs in this run).`;
  return (
    <p className="empty-rows muted" role="status" data-testid="node-table-empty">
      {text}
    </p>
  );
}

export function NodeTable(): ReactNode {
  const s = useApp();
  const ref = referenceRun();
  const run = s.runs.find((r) => r.stream === s.selectedRun) ?? s.runs.find((r) => r.role === 'edge') ?? s.runs[0];
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'index', desc: false });
  const [text, setText] = useState('');
  const [minErr, setMinErr] = useState('');
  const [minMs, setMinMs] = useState('');
  const [onlyDiverged, setOnlyDiverged] = useState(false);
  const table = run ? tableRows(run, ref) : { rows: [], own: 0, waiting: 0 };
  const rows = table.rows;
  const shown = useMemo(() => {
    const q = text.trim().toLowerCase();
    const e = Number(minErr);
    const m = Number(minMs);
    const out = rows.filter(
      (r) =>
        (q === '' || r.name.toLowerCase().includes(q) || r.op.toLowerCase().includes(q)) &&
        (minErr === '' || !Number.isFinite(e) || (r.nrmse ?? -1) >= e) &&
        (minMs === '' || !Number.isFinite(m) || (r.ms ?? -1) >= m) &&
        (!onlyDiverged || (r.verdict !== 'ok' && r.verdict !== 'reference' && r.verdict !== 'pending' && r.verdict !== 'waiting')),
    );
    out.sort((a, b) => (sort.desc ? -compare(a, b, sort.key) : compare(a, b, sort.key)));
    return out;
  }, [rows, text, minErr, minMs, onlyDiverged, sort]);
  const shownOwn = table.waiting === 0 ? shown.length : shown.reduce((n, r) => n + (r.from === undefined ? 1 : 0), 0);
  if (!run) return null;
  return (
    <section className="panel" data-testid="node-table" aria-labelledby="table-h">
      <h2 id="table-h">Nodes</h2>
      <div className="filters">
        <label className="field inline">
          <span>Run</span>
          <select data-testid="table-run-select" value={run.stream} onChange={(e) => setState({ selectedRun: e.target.value })}>
            {s.runs.map((r) => (
              <option key={r.stream} value={r.stream}>
                {r.stream}
              </option>
            ))}
          </select>
        </label>
        <input data-testid="node-filter" type="search" placeholder="filter name or op" value={text} onChange={(e) => setText(e.target.value)} aria-label="filter by node name or op" />
        <input data-testid="node-filter-nrmse" type="number" step="any" min={0} placeholder="nrmse ≥" value={minErr} onChange={(e) => setMinErr(e.target.value)} aria-label="minimum nrmse" />
        <input data-testid="node-filter-ms" type="number" step="any" min={0} placeholder="ms ≥" value={minMs} onChange={(e) => setMinMs(e.target.value)} aria-label="minimum time in ms" />
        <label className="check">
          <input type="checkbox" data-testid="node-filter-diverged" checked={onlyDiverged} onChange={(e) => setOnlyDiverged(e.target.checked)} />
          <span>diverged only</span>
        </label>
        {/* "k of n": the run's own node outputs; waiting rows (the reference's, not reached yet) counted apart. */}
        <span className="small muted" data-testid="node-count" data-own={table.own} data-waiting={table.waiting}>
          {shownOwn} of {table.own}
          {table.waiting > 0 && ` · ${shown.length - shownOwn} of ${table.waiting} waiting for ${run.stream}`}
        </span>
      </div>
      <div className="grid-table" role="table" aria-rowcount={shown.length}>
        <div className="grid-row head" role="row">
          {COLUMNS.map((c) => (
            <button
              type="button"
              role="columnheader"
              key={c.key}
              className={`cell c-${c.key} ${c.className ?? ''}`}
              data-testid={`sort-${c.key}`}
              aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
              onClick={() => setSort({ key: c.key, desc: sort.key === c.key ? !sort.desc : c.key !== 'index' && c.key !== 'name' && c.key !== 'op' })}
            >
              {c.label}
              {sort.key === c.key ? (sort.desc ? ' ▾' : ' ▴') : ''}
            </button>
          ))}
        </div>
        {shown.length === 0 && <EmptyRows rows={rows.length} onlyDiverged={onlyDiverged} filtered={text.trim() !== '' || minErr !== '' || minMs !== ''} compared={run.comparison !== null} streaming={run.status === 'running' || run.status === 'starting' || run.status === 'queued' ? notYet(s.runs) : null} />}
        <NodeRows shown={shown} selectedNode={s.selectedNode} stream={run.stream} empty={shown.length === 0} />
      </div>
    </section>
  );
}
