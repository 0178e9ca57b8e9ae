/**
 * The farm report: the matrix as a table (filter, sort, click a row), the cells grouped by diagnosed
 * cause, per model the per-layer error of every cell side by side; `#cell=<id>` opens one cell.
 * Navigation is the URL hash, so the back button and shared links work from disk too.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { CellView } from './CellView.tsx';
import { cellFromHash, cellHash, fmt, pct, seriesColor, spreadRows, type CellSummary, type FarmReport } from './data.ts';
import { SpreadChart, type SpreadSeries } from './SpreadChart.tsx';

type SortKey = 'model' | 'device' | 'backend' | 'status' | 'latency' | 'top1' | 'nrmse';
const STATUS_ORDER: Record<CellSummary['status'], number> = { error: 0, failed: 1, passed: 2, skipped: 3 };

function sortValue(c: CellSummary, k: SortKey): string | number {
  switch (k) {
    case 'status': return STATUS_ORDER[c.status];
    case 'latency': return c.latency?.medianMs ?? Infinity;
    case 'top1': return c.accuracy?.top1Agreement ?? Infinity;
    case 'nrmse': return c.accuracy?.outputNrmse.max ?? -Infinity;
    default: return c[k];
  }
}

function useHash(): string {
  const [hash, setHash] = useState(() => location.hash);
  useEffect(() => {
    const on = (): void => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

export function ReportApp({ report }: { report: FarmReport }): ReactNode {
  const hash = useHash();
  const id = cellFromHash(hash);
  const cell = id === null ? undefined : report.summary.cells.find((c) => c.id === id);
  useEffect(() => {
    document.title = cell ? `${cell.id} · exray farm` : 'exray farm';
    scrollTo(0, 0);
  }, [cell]);
  return (
    <div className="farm">
      <header className="farm-head">
        <h1><a href="#">exray farm</a></h1>
        <Totals report={report} />
      </header>
      {id !== null && !cell ? <p className="bad">No cell “{id}” in this report. <a href="#">All cells</a></p> : null}
      {cell ? <CellView report={report} cell={cell} /> : <Overview report={report} />}
    </div>
  );
}

function Totals({ report }: { report: FarmReport }): ReactNode {
  const s = report.summary;
  const t = s.totals;
  return (
    <p className="totals" data-testid="farm-totals">
      <span>{t.cells} cells</span>
      <span className="chip passed">{t.passed} passed</span>
      <span className={`chip ${t.failed ? 'failed' : ''}`}>{t.failed} failed</span>
      <span className={`chip ${t.errors ? 'error' : ''}`}>{t.errors} errors</span>
      <span className="chip skipped">{t.skipped} skipped</span>
      <span className="muted">
        reference {s.reference.backend} · tolerance {s.tolerance.nrmse === null ? 'preset' : `nrmse ${fmt(s.tolerance.nrmse, 2)}`}, top-1 ≥ {pct(s.tolerance.top1)} ·
        {' '}{new Date(s.createdAt).toLocaleString()} · {Math.round(s.seconds)} s · exit code {s.exitCode}
      </span>
    </p>
  );
}

function Overview({ report }: { report: FarmReport }): ReactNode {
  const s = report.summary;
  const [status, setStatus] = useState<'all' | CellSummary['status']>('all');
  const [text, setText] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean } | null>(null);
  const rows = useMemo(() => {
    const q = text.trim().toLowerCase();
    const out = s.cells.filter((c) => (status === 'all' || c.status === status) && (!q || c.id.toLowerCase().includes(q) || (c.diagnosis?.cause ?? '').includes(q)));
    if (sort) {
      out.sort((a, b) => {
        const x = sortValue(a, sort.key);
        const y = sortValue(b, sort.key);
        const r = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return sort.desc ? -r : r;
      });
    }
    return out;
  }, [s.cells, status, text, sort]);
  const head = (key: SortKey, label: string): ReactNode => (
    <th aria-sort={sort?.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="sort" onClick={() => setSort((p) => (p?.key === key ? { key, desc: !p.desc } : { key, desc: false }))}>
        {label}{sort?.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
  const causes = Object.entries(s.causes);
  return (
    <main>
      {causes.length ? (
        <section className="panel" data-testid="farm-causes">
          <h2>Divergent cells by cause</h2>
          <ul className="causes">
            {causes.map(([cause, ids]) => (
              <li key={cause}>
                <strong>{cause}</strong> ({ids.length}): {ids.map((id, i) => <span key={id}>{i ? ', ' : ''}<a href={cellHash(id)}>{id}</a></span>)}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <section className="panel">
        <h2>Cells</h2>
        <div className="filters">
          <label>status{' '}
            <select value={status} onChange={(e) => setStatus(e.target.value as typeof status)} data-testid="farm-status-filter">
              <option value="all">all</option>
              <option value="failed">failed</option>
              <option value="error">error</option>
              <option value="passed">passed</option>
              <option value="skipped">skipped</option>
            </select>
          </label>
          <label>find <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="model, device, backend, cause" /></label>
          <span className="muted">{rows.length} of {s.cells.length}</span>
        </div>
        <div className="scroll">
          <table className="cells" data-testid="farm-cells">
            <thead>
              <tr>
                {head('model', 'model')}{head('device', 'device')}{head('backend', 'backend')}{head('status', 'status')}
                {head('latency', 'latency ms')}{head('top1', 'top-1 agrees')}{head('nrmse', 'output nrmse max')}
                <th>first divergent node</th><th>cause</th><th>reason</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 ? <tr><td colSpan={10} className="muted">No cell matches.</td></tr> : rows.map((c) => (
                <tr key={c.id} className={c.status} data-cell={c.id} onClick={(e) => { if (!(e.target instanceof HTMLAnchorElement)) location.hash = cellHash(c.id); }}>
                  <td><a href={cellHash(c.id)}>{c.model}</a></td>
                  <td>{c.device}</td>
                  <td>{c.backend}</td>
                  <td><span className={`chip ${c.status}`}>{c.status}</span></td>
                  <td className="num">{fmt(c.latency?.medianMs)}</td>
                  <td className="num">{pct(c.accuracy?.top1Agreement)}</td>
                  <td className="num">{fmt(c.accuracy?.outputNrmse.max)}</td>
                  <td><code>{c.diagnosis?.firstDivergentNode ?? c.accuracy?.firstDivergentNode ?? ''}</code></td>
                  <td>{c.diagnosis?.cause ?? ''}</td>
                  <td className="reason">{c.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {s.models.map((m) => <ModelSpread key={m} report={report} model={m} />)}
    </main>
  );
}

/** Every cell of one model: its median error per layer over the inputs, one line per device × backend. */
function ModelSpread({ report, model }: { report: FarmReport; model: string }): ReactNode {
  const data = useMemo(() => {
    const cells = report.summary.cells.filter((c) => c.model === model && report.details[c.id]);
    const base = cells[0] ? report.details[cells[0].id]! : null;
    if (!base) return null;
    const keys = base.nodes.map((n) => n.key);
    const pos = new Map(keys.map((k, i) => [k, i]));
    const names = base.nodes.map((n) => `${n.name} (${n.op})`);
    const series: SpreadSeries[] = cells.map((c, i) => {
      const values = new Array<number | null>(keys.length).fill(null);
      for (const r of spreadRows(report.details[c.id]!)) {
        const x = pos.get(r.key);
        if (x !== undefined) values[x] = r.median;
      }
      return { label: `${c.device} · ${c.backend}`, color: seriesColor(i), values };
    });
    return { names, series, tolerance: base.tolerance, inputs: base.inputs.length };
  }, [report, model]);
  if (!data) return null;
  return (
    <section className="panel" data-testid="farm-model-spread" data-model={model}>
      <h2>{model}: per-layer error, median over {data.inputs} input{data.inputs === 1 ? '' : 's'}</h2>
      <SpreadChart names={data.names} series={data.series} tolerance={data.tolerance} />
      <p className="small muted">One line per device × backend. Open a cell for its spread (p95, max), its inputs and its node table.</p>
    </section>
  );
}
