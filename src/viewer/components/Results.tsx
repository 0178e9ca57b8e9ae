/**
 * The results column: how the page works until there is a run, then the runs' results
 * (RunResults.tsx). Those load as their own chunk, fetched once the page has painted: the app shell
 * does not wait for the comparison, diagnosis and chart code (issue #16 item 5).
 */
import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { useApp } from '../state/store.ts';
import { whenIdle } from '../util/idle.ts';
import { prewarmTraceReaders } from '../worker/client.ts';

const loadRunResults = (): Promise<{ default: () => ReactNode }> => import('./RunResults.tsx').then((m) => ({ default: m.RunResults }));
const RunResults = lazy(loadRunResults);

export function Results(): ReactNode {
  const s = useApp();
  // Fetched once the page is idle after its start-up, before anyone asks: results show without a wait
  // when a run starts or traces are opened; the trace readers are started ahead at the same time.
  useEffect(() => {
    let live = true;
    whenIdle(() => {
      if (!live) return;
      void loadRunResults();
      prewarmTraceReaders();
    });
    return () => {
      live = false;
    };
  }, []);
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
    <Suspense fallback={<p className="muted" role="status">Loading the results view…</p>}>
      <RunResults />
    </Suspense>
  );
}
