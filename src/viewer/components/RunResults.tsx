/**
 * The results of runs, under a sticky section index: summary, error chart and node table first (at
 * 1400×900 they share the first screen), then the inspector, assertions, diagnosis, latency guidance,
 * latency per node and environment. Its own chunk (Results.tsx loads it lazily): comparison,
 * diagnosis and charts are not needed before the first run or opened trace.
 */
import type { ReactNode } from 'react';
import { useApp } from '../state/store.ts';
import { ErrorChart } from '../charts/ErrorChart.tsx';
import { LatencyPanel } from '../charts/LatencyPanel.tsx';
import { Summary } from './Summary.tsx';
import { NodeTable } from './NodeTable.tsx';
import { TensorInspector } from './TensorInspector.tsx';
import { EnvironmentPanel } from './EnvironmentPanel.tsx';
import { DiagnosisPanel } from './DiagnosisPanel.tsx';
import { ResultsIndex } from './ResultsIndex.tsx';

export function RunResults(): ReactNode {
  const s = useApp();
  return (
    <>
      {s.source === 'files' && (
        <p className="small muted" data-testid="opened-note">
          Showing opened traces. {s.runs.some((r) => r.role === 'reference') ? 'The reference was chosen as the one that says so, else a cpu run, else the last file.' : 'One trace: no comparison.'}
        </p>
      )}
      <ResultsIndex revision={s} />
      <Summary />
      <ErrorChart />
      <NodeTable />
      <TensorInspector />
      <DiagnosisPanel />
      <LatencyPanel />
      <EnvironmentPanel />
    </>
  );
}
