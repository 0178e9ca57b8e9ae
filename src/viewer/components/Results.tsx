/**
 * The results column: how the page works until there is a run, then the runs' results
 * (RunResults.tsx). Those load as their own chunk, fetched once the page has painted: the app shell
 * does not wait for the comparison, diagnosis and chart code (issue #16 item 5).
 */
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { useApp } from '../state/store.ts';
import { whenIdle } from '../util/idle.ts';
import { prewarmTraceReaders } from '../worker/client.ts';

/** RunResults once its chunk is here (prefetched below): rendered as is, with no Suspense boundary. */
let loadedRunResults: (() => ReactNode) | null = null;
const loadRunResults = (): Promise<{ default: () => ReactNode }> =>
  import('./RunResults.tsx').then((m) => {
    loadedRunResults = m.RunResults;
    return { default: m.RunResults };
  });
const LazyRunResults = lazy(loadRunResults);

/**
 * The results, without a detour through Suspense when the chunk was prefetched: a lazy component
 * suspends at its first render even when its module is already loaded, and React holds back the
 * content that replaces a fallback by up to 300 ms (its fallback throttling). Opening two 1,000-node
 * traces waited ~250 ms for that, idle. Which of the two is chosen once, at mount, so that the
 * results never remount when the chunk arrives.
 */
function RunResultsView(): ReactNode {
  const [Loaded] = useState(() => loadedRunResults);
  if (Loaded) return <Loaded />;
  return (
    <Suspense fallback={<p className="muted" role="status">Loading the results view…</p>}>
      <LazyRunResults />
    </Suspense>
  );
}

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
  return <RunResultsView />;
}
