/**
 * Where the time goes: the slowest nodes as bars, one bar per run, each number labelled with the
 * clock that measured it (numbers from different clocks are not comparable); then the kernel timeline
 * of the selected run.
 */
import { useMemo, useState, type ReactNode } from 'react';
import type { Clock } from '../../trace/types.ts';
import { nodeRows } from '../state/node-rows.ts';
import { referenceRun } from '../state/session.ts';
import { setState, useApp } from '../state/store.ts';
import { fmtMs } from '../util/format.ts';
import { KernelTimeline } from './KernelTimeline.tsx';
import { runColor } from './palette.ts';

const CLOCK_TEXT: Record<Clock, string> = {
  wall: 'wall clock around a synchronous kernel',
  'wall-with-readback': 'wall clock incl. GPU read-back',
  'gpu-timer-query': 'GPU timer query',
  'gpu-timestamp': 'WebGPU timestamps',
  'ort-profiler': 'onnxruntime profiler',
  unavailable: 'not measurable',
};

/** Bars shown at first; "show more" lists up to TOP. The box grows with its bars (no inner scroll). */
const FIRST = 10;
const TOP = 25;

export function LatencyPanel(): ReactNode {
  const s = useApp();
  const ref = referenceRun();
  const [sortBy, setSortBy] = useState<string>('');
  const [all, setAll] = useState(false);
  const revs = s.runs.map((r) => r.rev).join(',');
  const table = useMemo(() => {
    const runs = s.runs.filter((r) => r.kernels.length > 0);
    const perRun = runs.map((r) => {
      const m = new Map<string, number>();
      let clock: Clock | null = null;
      let total = 0;
      for (const row of nodeRows(r, ref)) {
        if (row.ms === null) continue;
        m.set(row.name, row.ms);
        total += row.ms;
        clock ??= row.clock;
      }
      return { run: r, ms: m, clock, total };
    });
    const key = perRun.find((p) => p.run.stream === sortBy) ?? perRun.find((p) => p.run.role === 'edge') ?? perRun[0];
    const names = key ? [...key.ms.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([n]) => n) : [];
    const max = Math.max(1e-9, ...perRun.flatMap((p) => names.map((n) => p.ms.get(n) ?? 0)));
    return { perRun, names, max, key: key?.run.stream ?? '', timed: key?.ms.size ?? 0 };
  }, [revs, ref, sortBy]);
  if (table.perRun.length === 0) return null;
  const shownNames = all ? table.names : table.names.slice(0, FIRST);
  return (
    <section className="panel" data-testid="latency-panel" aria-labelledby="lat-h">
      <h2 id="lat-h">Latency per node</h2>
      <div className="legend">
        {table.perRun.map((p) => (
          <span key={p.run.stream} className="legend-item" data-testid="latency-clock" data-stream={p.run.stream} data-clock={p.clock ?? ''}>
            <i style={{ background: runColor(s.runs.indexOf(p.run), p.run.role === 'reference') }} />
            {p.run.stream}: Σ {fmtMs(p.total)} · <span className="muted">{p.clock ? CLOCK_TEXT[p.clock] : 'no kernel times'}</span>
          </span>
        ))}
      </div>
      <label className="field inline">
        <span>Sorted by</span>
        <select value={table.key} onChange={(e) => setSortBy(e.target.value)} data-testid="latency-sort">
          {table.perRun.map((p) => (
            <option key={p.run.stream} value={p.run.stream}>
              {p.run.stream}
            </option>
          ))}
        </select>
        <span className="small muted" data-testid="latency-count">
          slowest {shownNames.length} of {table.timed} timed nodes
        </span>
      </label>
      <div className="bars" data-testid="latency-bars">
        {shownNames.map((name) => (
          <div className="bar-group" key={name}>
            <button type="button" className="link bar-label" title={name} onClick={() => setState({ selectedNode: `${name}:0` })}>
              {name}
            </button>
            {table.perRun.map((p) => {
              const ms = p.ms.get(name);
              return (
                // The longest bar leaves room for its label (4.5rem): nothing runs past the panel.
                <div className="hbar" key={p.run.stream} title={`${p.run.stream}: ${fmtMs(ms)} (${p.clock ?? ''})`}>
                  <div className="fill" style={{ width: `calc((100% - 4.5rem) * ${(ms ?? 0) / table.max})`, background: runColor(s.runs.indexOf(p.run), p.run.role === 'reference') }} />
                  <span className="small">{fmtMs(ms)}</span>
                </div>
              );
            })}
          </div>
        ))}
      </div>
      {table.names.length > FIRST && (
        <button type="button" className="link small" data-testid="latency-more" onClick={() => setAll(!all)}>
          {all ? `show the slowest ${FIRST} only` : `show the slowest ${table.names.length}`}
        </button>
      )}
      <KernelTimeline />
    </section>
  );
}
