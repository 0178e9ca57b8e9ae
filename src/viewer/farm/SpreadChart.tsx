/**
 * Per-layer error across inputs, in execution order, log scale: each series is a line of nrmse per
 * node (a cell's median, p95 or max over its inputs, or other cells' medians to compare devices).
 * Exact zeros are drawn a decade under the smallest error (a log axis has no 0).
 */
import { useEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import { fmt } from './data.ts';

export interface SpreadSeries {
  label: string;
  color: string;
  values: (number | null)[];
  dash?: number[];
  width?: number;
}

export interface SpreadChartProps {
  /** Node labels (x axis, execution order). */
  names: string[];
  series: SpreadSeries[];
  /** Horizontal tolerance line. */
  tolerance?: number | null;
  /** Marked x positions (first divergent nodes). */
  marks?: { x: number; label: string }[];
  height?: number;
  testId?: string;
}

const decade = (x: number): number => 10 ** Math.floor(Math.log10(x));

export function SpreadChart({ names, series, tolerance = null, marks = [], height = 260, testId }: SpreadChartProps): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el || names.length === 0 || series.length === 0) return;
    let smallest = Infinity;
    let top = 0;
    for (const s of series) for (const v of s.values) if (v !== null && Number.isFinite(v)) {
      if (v > 0) smallest = Math.min(smallest, v);
      top = Math.max(top, v);
    }
    if (tolerance) top = Math.max(top, tolerance);
    const zero = Number.isFinite(smallest) ? decade(smallest) / 10 : 1e-9;
    const upper = decade(Math.max(top, zero * 10)) * 10;
    const ys = series.map((s) => s.values.map((v) => (v === null ? null : v <= 0 ? zero : v)));
    const overlay: uPlot.Plugin = {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            const dpr = devicePixelRatio;
            ctx.save();
            ctx.textAlign = 'left';
            ctx.textBaseline = 'alphabetic';
            ctx.font = `${10 * dpr}px system-ui, sans-serif`;
            if (tolerance) {
              const y = u.valToPos(tolerance, 'y', true);
              ctx.strokeStyle = '#cf222e';
              ctx.setLineDash([2, 3]);
              ctx.lineWidth = dpr;
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.fillStyle = '#cf222e';
              ctx.fillText(`tolerance ${fmt(tolerance, 2)}`, u.bbox.left + 4 * dpr, y - 3 * dpr);
            }
            for (const m of marks) {
              const x = u.valToPos(m.x, 'x', true);
              ctx.strokeStyle = '#9a6700';
              ctx.setLineDash([4, 3]);
              ctx.lineWidth = 1.5 * dpr;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillStyle = '#9a6700';
              const w = ctx.measureText(m.label).width;
              ctx.fillText(m.label, x > u.bbox.left + u.bbox.width * 0.7 ? x - w - 4 * dpr : x + 4 * dpr, u.bbox.top + 12 * dpr);
            }
            ctx.fillStyle = '#656d76';
            ctx.fillText('0 (identical)', u.bbox.left + 4 * dpr, u.bbox.top + u.bbox.height - 4 * dpr);
            ctx.restore();
          },
        ],
      },
    };
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      plugins: [overlay],
      scales: { x: { time: false }, y: { distr: 3, log: 10, range: () => [zero, upper] } },
      axes: [
        { label: 'node (execution order)', size: 40 },
        {
          label: 'nrmse vs reference',
          size: 64,
          splits: (_u, _i, min, max) => {
            const out: number[] = [];
            for (let e = Math.round(Math.log10(decade(min))); 10 ** e <= max * 1.0001; e++) if (10 ** e >= min * 0.9999) out.push(10 ** e);
            return out;
          },
          values: (_u, vals) => vals.map((v) => (v === null || v === undefined ? '' : v <= zero * 1.0001 ? '0' : v.toExponential(0))),
        },
      ],
      cursor: { points: { size: 6 }, focus: { prox: 24 } },
      legend: { live: true },
      series: [
        { label: 'node', value: (_u, v) => (v === null || v === undefined ? '' : (names[v] ?? String(v))) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.5,
          ...(s.dash ? { dash: s.dash } : {}),
          points: { show: names.length <= 400, size: 3 },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : v <= zero ? '0' : fmt(v)),
        })),
      ],
    };
    const u = new uPlot(opts, [names.map((_, i) => i), ...ys] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [names, series, tolerance, marks, height]);
  if (names.length === 0 || series.length === 0) return <p className="muted">No per-layer errors were recorded (stats capture, or nothing comparable).</p>;
  return <div ref={host} className="chart" data-testid={testId} />;
}
