/**
 * Per-layer error in execution order: nrmse of every node output vs the reference, log scale, one
 * line per backend, each run's first divergent node marked. Click a point to inspect that node.
 */
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import { nodeRows, type NodeRow } from '../state/node-rows.ts';
import type { RunState } from '../state/run-state.ts';
import { referenceRun } from '../state/session.ts';
import { getState, setState, useApp } from '../state/store.ts';
import { fmtErr } from '../util/format.ts';
import { runColor } from './palette.ts';

interface ChartData {
  keys: string[];
  names: string[];
  series: { run: RunState; color: string; y: (number | null)[]; first: number | null }[];
  /** Where exact zeros (bit-identical outputs) are drawn: a decade below the smallest non-zero error. */
  zero: number;
  /** Largest error (for the axis range). */
  top: number;
}

/** Short enough that the summary, this chart and the node table's first rows share a 1400×900 screen (issue 12 item 11). */
const CHART_HEIGHT = 210;
const decade = (x: number): number => 10 ** Math.floor(Math.log10(x));

function build(runs: RunState[], ref: RunState | undefined): ChartData | null {
  if (!ref) return null;
  const refRows = nodeRows(ref, undefined);
  const keys = refRows.map((r) => r.key);
  const names = refRows.map((r) => `${r.name}${r.outputIndex > 0 ? `:${r.outputIndex}` : ''} (${r.op})`);
  const pos = new Map(keys.map((k, i) => [k, i]));
  let smallest = Infinity;
  let top = 0;
  const series = runs
    .map((run, i) => ({ run, i }))
    .filter(({ run }) => run.role === 'edge')
    .map(({ run, i }) => {
      const y: (number | null)[] = new Array<number | null>(keys.length).fill(null);
      let first: number | null = null;
      for (const row of nodeRows(run, ref) as NodeRow[]) {
        const x = pos.get(row.key);
        if (x === undefined || row.nrmse === null || !Number.isFinite(row.nrmse)) continue;
        y[x] = row.nrmse;
        if (row.nrmse > 0) smallest = Math.min(smallest, row.nrmse);
        top = Math.max(top, row.nrmse);
        if (row.firstDivergent) first = x;
      }
      return { run, color: runColor(i), y, first };
    });
  const zero = Number.isFinite(smallest) ? decade(smallest) / 10 : 1e-9;
  for (const sr of series) for (let i = 0; i < sr.y.length; i++) if (sr.y[i] === 0) sr.y[i] = zero;
  return { keys, names, series, zero, top: Math.max(top, zero * 10) };
}

export function ErrorChart(): ReactNode {
  const s = useApp();
  const ref = referenceRun();
  const revs = s.runs.map((r) => r.rev).join(',');
  const data = useMemo(() => build(s.runs, ref), [revs, ref]);
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef<ChartData | null>(null);
  latest.current = data;
  // Rebuilt when the series change, or when the first reference node gives the x axis its nodes.
  const hasNodes = data !== null && data.keys.length > 0;
  const shape = data ? `${data.series.map((x) => x.run.stream).join('|')}#${hasNodes}` : '';

  useEffect(() => {
    const el = host.current;
    if (!el || !data || data.series.length === 0 || data.keys.length === 0) return;
    const marks: uPlot.Plugin = {
      hooks: {
        draw: [
          (u) => {
            const d = latest.current;
            if (!d) return;
            const ctx = u.ctx;
            ctx.save();
            // uPlot leaves the context as its axes drew (right-aligned labels).
            ctx.textAlign = 'left';
            ctx.textBaseline = 'alphabetic';
            for (const sr of d.series) {
              if (sr.first === null) continue;
              const x = u.valToPos(sr.first, 'x', true);
              ctx.strokeStyle = sr.color;
              ctx.setLineDash([4, 3]);
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillStyle = sr.color;
              ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
              const text = `first divergent (${sr.run.stream})`;
              const w = ctx.measureText(text).width;
              const pad = 4 * devicePixelRatio;
              const tx = x > u.bbox.left + u.bbox.width * 0.7 ? x - pad - w : x + pad;
              ctx.fillText(text, tx, u.bbox.top + 12 * devicePixelRatio);
            }
            // Exact zeros sit on the bottom line: say so there (the log axis cannot label 0).
            ctx.fillStyle = '#656d76';
            ctx.font = `${10 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.fillText('0 (identical)', u.bbox.left + 4 * devicePixelRatio, u.bbox.top + u.bbox.height - 4 * devicePixelRatio);
            ctx.restore();
          },
        ],
      },
    };
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: CHART_HEIGHT,
      plugins: [marks],
      scales: {
        x: { time: false },
        y: {
          distr: 3,
          log: 10,
          range: () => {
            const d = latest.current;
            return d ? [d.zero, decade(d.top) * 10] : [1e-9, 1];
          },
        },
      },
      axes: [
        { label: 'node (execution order)', size: 40 },
        {
          label: 'nrmse vs reference',
          size: 64,
          space: 12,
          // One tick per decade (log axes otherwise label 2…9 too, and the labels collide).
          splits: (_u, _i, min, max) => {
            const out: number[] = [];
            // Exact powers of ten (repeated ×10 drifts, and uPlot's log filter drops inexact ones).
            for (let e = Math.round(Math.log10(decade(min))); 10 ** e <= max * 1.0001; e++) if (10 ** e >= min * 0.9999) out.push(10 ** e);
            return out;
          },
          // uPlot passes null for ticks it thinned out.
          values: (_u, vals) => vals.map((v) => (v === null || v === undefined ? '' : v <= (latest.current?.zero ?? 0) * 1.0001 ? '0' : v.toExponential(0))),
        },
      ],
      cursor: { points: { size: 7 }, focus: { prox: 24 } },
      legend: { live: true },
      // Legend: with no point hovered, each run's worst nrmse so far; on hover, that node's values.
      series: [
        {
          label: 'node',
          value: (_u, v, _s, idx) => (idx === null || idx === undefined ? 'hover or tap a point' : v === null || v === undefined ? '' : (latest.current?.names[v] ?? String(v))),
        },
        ...data.series.map((sr, k) => ({
          label: sr.run.stream,
          stroke: sr.color,
          width: 1.5,
          points: { show: true, size: 3 },
          spanGaps: false,
          value: (_u: uPlot, v: number | null, _s: number, idx: number | null) => {
            const zero = latest.current?.zero ?? 0;
            if (idx === null || idx === undefined) {
              const ys = latest.current?.series[k]?.y ?? [];
              let worst: number | null = null;
              for (const y of ys) if (y !== null) worst = Math.max(worst ?? 0, y);
              return worst === null ? 'no node compared yet' : `worst ${worst <= zero ? '0' : fmtErr(worst)}`;
            }
            return v === null ? 'not compared' : v <= zero ? '0' : fmtErr(v);
          },
        })),
      ],
    };
    const u = new uPlot(opts, [[], ...data.series.map(() => [])], el);
    plot.current = u;
    const onClick = (): void => {
      const idx = u.cursor.idx;
      const d = latest.current;
      if (idx === null || idx === undefined || !d) return;
      const key = d.keys[idx];
      if (!key) return;
      const current = getState().selectedRun;
      const run = d.series.some((sr) => sr.run.stream === current) ? current : (d.series[0]?.run.stream ?? null);
      setState({ selectedNode: key, selectedRun: run });
    };
    u.over.addEventListener('click', onClick);
    const ro = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: CHART_HEIGHT }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.over.removeEventListener('click', onClick);
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of series changes; data updates go through setData below.
    }, [shape]);

  useEffect(() => {
    const u = plot.current;
    if (!u || !data) return;
    const xs = data.keys.map((_, i) => i);
    u.setData([xs, ...data.series.map((sr) => sr.y)] as uPlot.AlignedData);
  }, [data]);

  if (!ref) return null;
  const any = data && data.series.length > 0;
  return (
    <section className="panel" data-testid="error-chart" aria-labelledby="err-h">
      <h2 id="err-h">
        Error per layer{' '}
        {any && hasNodes && <span className="small muted chart-hint">click a point to inspect that node · dashed line: first node beyond tolerance · 0 = bit-identical</span>}
      </h2>
      {any && !hasNodes ? (
        <p className="muted" data-testid="error-chart-waiting">
          The error of each layer appears here as the {ref.stream} run reaches it{ref.status === 'queued' ? ' (it runs next)' : ''}.
        </p>
      ) : any ? (
        <>
          <div ref={host} className="chart" data-testid="error-chart-plot" />
        </>
      ) : (
        <p className="muted">Run a backend other than cpu to compare it with the cpu reference.</p>
      )}
    </section>
  );
}
