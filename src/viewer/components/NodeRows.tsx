/**
 * The node table's scrolling body: a virtual list (only the rows in view, plus a few, are in the DOM).
 *
 * Scrolling re-renders only this component (the virtualizer's state lives here, not in NodeTable with
 * its filters and header), and each row is memoised on its row object, selection and offset: a scroll
 * step renders just the rows that came into view, not every row on screen (issue #16 item 5). Rows
 * have a fixed height, so the virtualizer never measures them (no layout read per frame).
 */
import { memo, useRef, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { setState } from '../state/store.ts';
import type { TableRow } from '../state/table-rows.ts';
import type { TensorStats } from '../../trace/types.ts';
import { fmtErr, fmtMs, fmtShape, fmtVal } from '../util/format.ts';

export const ROW_HEIGHT = 32;

/** A node output's statistics for the name cell's title: ` · min … max · mean …`. */
function statsText(st: TensorStats | null): string {
  if (!st) return '';
  const bad = st.nanCount + st.infCount > 0 ? ` · ${st.nanCount} NaN, ${st.infCount} ±Inf` : '';
  return ` · min ${fmtVal(st.min)} max ${fmtVal(st.max)} mean ${fmtVal(st.mean)} std ${fmtVal(st.std)}${bad}`;
}

/**
 * A row's cells. Rows of a streaming run are updated in place (node-rows.ts LiveRows: metrics,
 * verdict, time arrive late on the same object), so every value a cell shows is its own prop: the
 * memo compares values, not the row object, and a row re-renders exactly when what it shows changed.
 */
type Cells = { rowKey: string } & Pick<TableRow, 'name' | 'op' | 'outputIndex' | 'index' | 'shape' | 'stats' | 'nrmse' | 'maxAbs' | 'cosine' | 'verdict' | 'reasons' | 'ms' | 'firstDivergent' | 'from' | 'otherMs'>;

interface RowProps extends Cells {
  selected: boolean;
  /** Offset from the top of the list (px). */
  start: number;
  /** The run the table shows (a click selects this run and the row's node). */
  stream: string;
}

function cellsOf(r: TableRow): Cells {
  return {
    rowKey: r.key,
    name: r.name,
    op: r.op,
    outputIndex: r.outputIndex,
    index: r.index,
    shape: r.shape,
    stats: r.stats,
    nrmse: r.nrmse,
    maxAbs: r.maxAbs,
    cosine: r.cosine,
    verdict: r.verdict,
    reasons: r.reasons,
    ms: r.ms,
    firstDivergent: r.firstDivergent,
    from: r.from,
    otherMs: r.otherMs,
  };
}

const Row = memo(function Row(r: RowProps): ReactNode {
  const { selected, start, stream } = r;
  return (
    <div
      role="row"
      data-testid="node-row"
      data-key={r.rowKey}
      data-verdict={r.verdict}
      data-from={r.from}
      className={`grid-row${selected ? ' selected' : ''}${r.firstDivergent ? ' first' : ''}`}
      style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${start}px)` }}
      onClick={() => setState({ selectedNode: r.rowKey, selectedRun: stream })}
    >
      <span className="cell c-index">{r.index}</span>
      <span className="cell c-name" title={`${r.name}${r.outputIndex ? `:${r.outputIndex}` : ''} ${fmtShape(r.shape)}${statsText(r.stats)}${r.from ? ` (${r.from})` : ''}`}>
        <span className="name-long">{r.name}</span>
        {/* Phones: the last two path segments (`block1_conv1_act/Relu`), the part that tells nodes apart. */}
        <span className="name-short">{r.name.split('/').slice(-2).join('/')}</span>
        {r.outputIndex ? `:${r.outputIndex}` : ''}
      </span>
      <span className="cell c-op">{r.op}</span>
      <span className="cell c-nrmse num" data-testid="cell-nrmse" data-value={r.nrmse ?? ''}>
        {fmtErr(r.nrmse)}
      </span>
      <span className="cell c-maxAbs num wide-only">{fmtErr(r.maxAbs)}</span>
      <span className="cell c-cosine num wide-only">{r.cosine === null ? '–' : r.cosine.toFixed(6)}</span>
      {r.from ? (
        <span className="cell c-ms num muted" title={`time on ${r.from}; ${stream} has not reached this node yet`}>
          {fmtMs(r.otherMs)}
        </span>
      ) : (
        <span className="cell c-ms num">{fmtMs(r.ms)}</span>
      )}
      <span
        className={`cell c-verdict v-${r.verdict}${r.from ? ' muted' : ''}`}
        title={r.from ? `${stream} has not reached this node yet: shape, statistics and time are ${r.from}'s; the comparison fills in when it does` : r.reasons.join('; ')}
      >
        {r.firstDivergent ? '▶ ' : ''}
        {r.verdict}
      </span>
    </div>
  );
});

/** The scrolling list of `shown` rows (filtered and sorted by NodeTable). */
export function NodeRows(p: { shown: readonly TableRow[]; selectedNode: string | null; stream: string; empty: boolean }): ReactNode {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: p.shown.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  return (
    <div className={`grid-body${p.empty ? ' empty' : ''}`} ref={scroller} data-testid="node-rows">
      <div className="grid-rows" style={{ height: virtual.getTotalSize() }}>
        {virtual.getVirtualItems().map((v) => {
          const r = p.shown[v.index]!;
          return <Row key={r.key} {...cellsOf(r)} selected={p.selectedNode === r.key} start={v.start} stream={p.stream} />;
        })}
      </div>
    </div>
  );
}
