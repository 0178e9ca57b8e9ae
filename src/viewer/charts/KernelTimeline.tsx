/**
 * Kernel timeline of the selected run: kernels end to end on one axis, coloured by kernel name (the
 * same synthetic layout as the Perfetto export: gaps between kernels are not measured).
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { KernelRecord } from '../../trace/types.ts';
import { useApp } from '../state/store.ts';
import { fmtMs } from '../util/format.ts';

function hue(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h % 360;
}

const HEIGHT = 36;

export function KernelTimeline(): ReactNode {
  const s = useApp();
  const run = s.runs.find((r) => r.stream === s.selectedRun) ?? s.runs.find((r) => r.role === 'edge') ?? s.runs[0];
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<KernelRecord | null>(null);
  const layout = useMemo(() => {
    const ks = [...(run?.kernels ?? [])].sort((a, b) => a.index - b.index);
    const starts: number[] = [];
    let t = 0;
    for (const k of ks) {
      starts.push(t);
      t += k.ms ?? 0;
    }
    return { ks, starts, total: t };
  }, [run, run?.rev]);
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const w = c.clientWidth || 600;
    const dpr = devicePixelRatio || 1;
    c.width = w * dpr;
    c.height = HEIGHT * dpr;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, w, HEIGHT);
    const { ks, starts, total } = layout;
    if (total <= 0) return;
    ks.forEach((k, i) => {
      const x = (starts[i]! / total) * w;
      const width = Math.max(0.5, ((k.ms ?? 0) / total) * w);
      ctx.fillStyle = `hsl(${hue(k.name)} 65% 55%)`;
      ctx.fillRect(x, 4, width, HEIGHT - 8);
    });
  }, [layout]);
  if (!run || layout.ks.length === 0) return null;
  const onMove = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    const rect = e.currentTarget.getBoundingClientRect();
    const t = ((e.clientX - rect.left) / rect.width) * layout.total;
    let lo = 0;
    let hi = layout.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (layout.starts[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    setHover(layout.ks[lo] ?? null);
  };
  return (
    <div className="timeline" data-testid="kernel-timeline">
      <h3>
        Kernel timeline · {run.stream} <span className="small muted">({layout.ks.length} kernels, Σ {fmtMs(layout.total)}, clock {layout.ks[0]?.clock})</span>
      </h3>
      <canvas ref={canvas} className="timeline-canvas" onMouseMove={onMove} onMouseLeave={() => setHover(null)} aria-label="kernel timeline" />
      <div className="small muted timeline-hover">
        {hover ? `${hover.name} · ${fmtMs(hover.ms)}${hover.msRange ? ` (median; ${fmtMs(hover.msRange[0])}–${fmtMs(hover.msRange[1])} over the timing passes)` : ''} · node ${hover.node ?? '(none)'} · out ${hover.outputShapes.map((s) => `[${s.join(',')}]`).join(' ')}` : 'hover a kernel'}
      </div>
    </div>
  );
}
