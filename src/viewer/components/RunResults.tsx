/**
 * The results of runs, under a sticky section index: summary, error chart and node table first (at
 * 1400×900 they share the first screen), then the inspector, assertions, diagnosis, latency guidance,
 * latency per node and environment. Its own chunk (Results.tsx loads it lazily): comparison,
 * diagnosis and charts are not needed before the first run or opened trace.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useApp } from '../state/store.ts';
import { ErrorChart } from '../charts/ErrorChart.tsx';
import { LatencyPanel } from '../charts/LatencyPanel.tsx';
import { Summary } from './Summary.tsx';
import { NodeTable } from './NodeTable.tsx';
import { TensorInspector } from './TensorInspector.tsx';
import { EnvironmentPanel } from './EnvironmentPanel.tsx';
import { DiagnosisPanel } from './DiagnosisPanel.tsx';
import { ResultsIndex } from './ResultsIndex.tsx';

/**
 * False until the results' first screen (summary, error chart, node table) has been painted, then
 * true: the panels below it (inspector, assertions and diagnosis, latency, environment) are rendered
 * after that paint, not before it, and so is the summary's diagnosis (its largest own error). Opening
 * two 1,000-node traces, their first render (the built-in assertions read every blob's statistics,
 * the latency guidance, two charts) held the table back by about as long again as the table itself
 * (issue #16 item 5, the viewer benchmark); the summary's diagnosis (float16 evidence, error
 * attribution) another 30–60 ms.
 */
function usePaintedOnce(): boolean {
  const [painted, setPainted] = useState(false);
  useEffect(() => {
    if (painted) return;
    // A frame callback runs before that frame's paint; the task it queues runs after it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => setPainted(true), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [painted]);
  return painted;
}

export function RunResults(): ReactNode {
  const s = useApp();
  const painted = usePaintedOnce();
  // The index looks for the panels after each render of the results: the later panels' arrival is one.
  const revision = useMemo(() => ({ s, painted }), [s, painted]);
  return (
    <>
      {s.source === 'files' && (
        <p className="small muted" data-testid="opened-note">
          Showing opened traces. {s.runs.some((r) => r.role === 'reference') ? 'The reference was chosen as the one that says so, else a cpu run, else the last file.' : 'One trace: no comparison.'}
        </p>
      )}
      <ResultsIndex revision={revision} />
      <Summary painted={painted} />
      <ErrorChart />
      <NodeTable />
      {painted && (
        <>
          <TensorInspector />
          <DiagnosisPanel />
          <LatencyPanel />
          <EnvironmentPanel />
        </>
      )}
    </>
  );
}
