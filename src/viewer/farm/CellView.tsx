/**
 * One cell (model × device × backend): what the device is, how the cell was judged and why, the
 * per-layer error spread over its inputs (optionally beside other cells of the model), each input's
 * result with its traces, and every node's spread and kernel time.
 */
import { useMemo, useState, type ReactNode } from 'react';
import { fmt, pct, seriesColor, spreadRows, traceHref, type CellSummary, type FarmReport, type NodeSpreadRow } from './data.ts';
import { SpreadChart, type SpreadSeries } from './SpreadChart.tsx';

const ROW_LIMIT = 400;

function TraceLink({ path, children }: { path: string; children: ReactNode }): ReactNode {
  const href = traceHref(path);
  return href ? <a href={href} download>{children}</a> : <code>{path}</code>;
}

export function CellView({ report, cell }: { report: FarmReport; cell: CellSummary }): ReactNode {
  const detail = report.details[cell.id];
  const rows = useMemo(() => (detail ? spreadRows(detail) : []), [detail]);
  const others = report.summary.cells.filter((c) => c.model === cell.model && c.id !== cell.id && report.details[c.id]);
  const [withIds, setWithIds] = useState<string[]>([]);
  const [worstFirst, setWorstFirst] = useState(false);
  const [showAll, setShowAll] = useState(false);
  const chart = useMemo(() => {
    if (!detail) return null;
    const names = rows.map((r) => `${r.name} (${r.op})`);
    const series: SpreadSeries[] = [
      { label: 'median', color: '#1f6feb', values: rows.map((r) => r.median), width: 2 },
      { label: 'p95', color: '#e36209', values: rows.map((r) => r.p95) },
      { label: 'max', color: '#8c959f', values: rows.map((r) => r.max), dash: [3, 3], width: 1 },
    ];
    const pos = new Map(rows.map((r) => [r.key, r.position]));
    withIds.forEach((id, i) => {
      const d = report.details[id];
      if (!d) return;
      const values = new Array<number | null>(rows.length).fill(null);
      for (const r of spreadRows(d)) {
        const x = pos.get(r.key);
        if (x !== undefined) values[x] = r.median;
      }
      const c = report.summary.cells.find((x) => x.id === id);
      series.push({ label: `${c?.device ?? id} · ${c?.backend ?? ''} median`, color: seriesColor(i + 3), values, width: 1 });
    });
    const firstKey = detail.firstDivergent.find((k) => k !== null) ?? null;
    const marks = firstKey !== null && pos.has(firstKey) ? [{ x: pos.get(firstKey)!, label: 'first divergent' }] : [];
    return { names, series, marks };
  }, [detail, rows, withIds, report]);
  const shown = useMemo(() => {
    const r = worstFirst ? [...rows].sort((a, b) => (b.median ?? -1) - (a.median ?? -1)) : rows;
    return showAll ? r : r.slice(0, ROW_LIMIT);
  }, [rows, worstFirst, showAll]);
  const refs = report.summary.reference.traces.filter((t) => t.model === cell.model);
  const env = cell.environment;
  const a = cell.accuracy;
  return (
    <main data-testid="farm-cell" data-cell={cell.id}>
      <p><a href="#">← all cells</a></p>
      <section className="panel">
        <h2>{cell.model} › {cell.device} › {cell.backend} <span className={`chip ${cell.status}`}>{cell.status}</span></h2>
        {cell.reason ? <p className={cell.status === 'skipped' ? 'muted' : 'bad'}>{cell.reason}</p> : null}
        <dl className="facts">
          <dt>latency</dt><dd>{cell.latency ? `${fmt(cell.latency.medianMs)} ms median · ${fmt(cell.latency.firstRunMs)} ms first run` : '–'}</dd>
          <dt>inputs</dt><dd>{a ? `${a.inputs} (${a.divergentInputs} diverge)` : '–'}</dd>
          <dt>top-1 agrees</dt><dd>{a?.top1Agreement === null ? 'no class-score output' : pct(a?.top1Agreement)}</dd>
          <dt>output nrmse</dt><dd>{a ? `mean ${fmt(a.outputNrmse.mean)} · max ${fmt(a.outputNrmse.max)}` : '–'}</dd>
          <dt>attempts</dt><dd>{cell.attempts} · {fmt(cell.seconds)} s</dd>
        </dl>
        {cell.diagnosis ? (
          <div className="diagnosis" data-testid="farm-diagnosis">
            <h3>Diagnosis: {cell.diagnosis.cause}{cell.diagnosis.causes.length > 1 ? ` (also ${cell.diagnosis.causes.slice(1).join(', ')})` : ''}</h3>
            <p>{cell.diagnosis.summary}</p>
            <p className="small muted">On input {cell.diagnosis.input}; first divergent node <code>{cell.diagnosis.firstDivergentNode ?? '–'}</code>.</p>
          </div>
        ) : null}
      </section>
      {env ? (
        <section className="panel">
          <h2>Device</h2>
          <dl className="facts">
            <dt>user agent</dt><dd>{env.userAgent}</dd>
            <dt>platform</dt><dd>{env.platform}</dd>
            <dt>cores</dt><dd>{env.hardwareConcurrency}</dd>
            <dt>GPU</dt><dd>{env.gpuRenderer ?? '–'}</dd>
            <dt>float precision</dt><dd>{env.floatPrecision === null ? '–' : `${env.floatPrecision} bit`}{env.webglFloatTextures === null ? '' : ` · float textures ${env.webglFloatTextures ? 'yes' : 'no'}`}</dd>
            <dt>cross-origin isolated</dt><dd>{env.crossOriginIsolated === null ? '–' : env.crossOriginIsolated ? 'yes' : 'no'}</dd>
          </dl>
        </section>
      ) : null}
      {detail && chart ? (
        <section className="panel" data-testid="farm-cell-spread">
          <h2>Per-layer error over {detail.inputs.length} input{detail.inputs.length === 1 ? '' : 's'}</h2>
          <SpreadChart names={chart.names} series={chart.series} tolerance={detail.tolerance} marks={chart.marks} height={300} testId="farm-spread-chart" />
          {others.length ? (
            <div className="with">
              <span className="muted">beside:</span>
              {others.map((o) => (
                <label key={o.id}>
                  <input
                    type="checkbox"
                    checked={withIds.includes(o.id)}
                    onChange={(e) => setWithIds((p) => (e.target.checked ? [...p, o.id] : p.filter((x) => x !== o.id)))}
                  />{' '}{o.device} · {o.backend}
                </label>
              ))}
            </div>
          ) : null}
        </section>
      ) : null}
      {cell.traces.length ? (
        <section className="panel">
          <h2>Inputs</h2>
          <div className="scroll">
            <table className="inputs" data-testid="farm-inputs">
              <thead><tr><th>input</th><th>output nrmse</th><th>top-1</th><th>first divergent node</th><th>trace</th><th>reference</th></tr></thead>
              <tbody>
                {cell.traces.map((t, k) => {
                  const ref = refs.find((r) => r.input === t.input);
                  const firstKey = detail?.firstDivergent[k] ?? null;
                  const first = firstKey ? detail?.nodes.find((n) => n.key === firstKey)?.name ?? firstKey : null;
                  const top1 = detail?.top1[k];
                  return (
                    <tr key={t.path}>
                      <td>{t.input}</td>
                      <td className="num">{fmt(detail?.outputNrmse[k])}</td>
                      <td>{top1 === null || top1 === undefined ? '–' : top1 ? 'agrees' : <span className="bad">differs</span>}</td>
                      <td><code>{first ?? ''}</code></td>
                      <td><TraceLink path={t.path}>{t.path.split('/').pop()}</TraceLink></td>
                      <td>{ref ? <TraceLink path={ref.path}>reference</TraceLink> : '–'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p className="small muted">Drop a trace and its reference on the exray page (<code>npm start</code>) to inspect any tensor side by side.</p>
        </section>
      ) : null}
      {detail ? (
        <section className="panel">
          <h2>Nodes</h2>
          <div className="filters">
            <label><input type="checkbox" checked={worstFirst} onChange={(e) => setWorstFirst(e.target.checked)} /> worst first</label>
            <span className="muted">{rows.length} nodes</span>
          </div>
          <div className="scroll">
            <table className="nodes" data-testid="farm-nodes">
              <thead><tr><th>#</th><th>node</th><th>op</th><th>median nrmse</th><th>p95</th><th>max</th><th>ms</th><th>reference ms</th></tr></thead>
              <tbody>{shown.map((r) => <NodeRow key={r.key} r={r} tolerance={detail.tolerance} />)}</tbody>
            </table>
          </div>
          {!showAll && rows.length > ROW_LIMIT ? <button type="button" onClick={() => setShowAll(true)}>show all {rows.length} nodes</button> : null}
        </section>
      ) : null}
    </main>
  );
}

function NodeRow({ r, tolerance }: { r: NodeSpreadRow; tolerance: number | null }): ReactNode {
  const over = tolerance !== null && r.median !== null && r.median > tolerance;
  return (
    <tr className={r.firstOn ? 'first' : over ? 'over' : ''}>
      <td className="num">{r.position}</td>
      <td><code>{r.name}</code>{r.firstOn ? <span className="chip failed" title="first divergent node on these inputs">first ×{r.firstOn}</span> : null}</td>
      <td>{r.op}</td>
      <td className="num">{fmt(r.median)}</td>
      <td className="num">{fmt(r.p95)}</td>
      <td className="num">{fmt(r.max)}</td>
      <td className="num">{fmt(r.ms)}</td>
      <td className="num">{fmt(r.refMs)}</td>
    </tr>
  );
}
