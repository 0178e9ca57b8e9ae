/**
 * The results column, under a sticky section index: summary, error chart and node table first (at
 * 1400×900 they share the first screen), then the inspector, assertions, diagnosis, latency guidance,
 * latency per node and environment.
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

export function Results(): ReactNode {
  const s = useApp();
  if (s.runs.length === 0) {
    return (
      <section className="panel intro" data-testid="intro">
        <h2>How it works</h2>
        <ol>
          <li>Choose a model: a bundled sample, or drop your TF.js <code>model.json</code> with its weight shards (and an <code>exray.json</code> card).</li>
          <li>Choose a photo (or take one with the camera). You see it exactly as the model will.</li>
          <li>Pick backends and run. The model also runs on <strong>cpu</strong> as the reference; every layer of every backend is compared with it while it streams in.</li>
        </ol>
        <p className="muted">Half-float WebGL textures (Options) reproduce what many phone GPUs do. Traces can be saved as <code>.exray</code> and opened again here, or compared two at a time.</p>
      </section>
    );
  }
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
