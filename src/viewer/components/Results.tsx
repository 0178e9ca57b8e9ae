/**
 * The results column: how the page works until there is a run, then the runs' results
 * (RunResults.tsx). Those load as their own chunk, fetched once the page has painted: the app shell
 * does not wait for the comparison, diagnosis and chart code (issue #16 item 5).
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useApp } from '../state/store.ts';
import { whenIdle } from '../util/idle.ts';
import { prewarmTraceReaders } from '../worker/client.ts';
import { loadedResultsView, loadResultsView } from './results-chunk.ts';

/**
 * The results, rendered as soon as their chunk is here. Not React.lazy + Suspense: a lazy component
 * suspends at its first render even when its module is already loaded, and React holds back content
 * that replaces a Suspense fallback by up to 300 ms (its fallback throttling); opening two 1,000-node
 * traces waited ~250 ms for that, idle. A state update shows the chunk the moment it arrives.
 */
function RunResultsView(): ReactNode {
  const [loaded, setLoaded] = useState<{ view: () => ReactNode } | { problem: string } | null>(() => {
    const view = loadedResultsView();
    return view ? { view } : null;
  });
  useEffect(() => {
    if (loaded) return;
    let live = true;
    loadResultsView().then(
      (view) => live && setLoaded({ view }),
      (e: unknown) => live && setLoaded({ problem: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [loaded]);
  if (loaded === null) return <p className="muted" role="status">Loading the results view…</p>;
  if ('problem' in loaded) {
    return (
      <p className="notice" role="alert" data-testid="results-load-problem">
        The results view could not be loaded ({loaded.problem}). Reload the page to try again.
      </p>
    );
  }
  const View = loaded.view;
  return <View />;
}

export function Results(): ReactNode {
  const s = useApp();
  // The results chunk, fetched once the page is idle after its start-up, before anyone asks: results
  // show without a wait when a run starts or traces are opened.
  useEffect(() => {
    let live = true;
    whenIdle(() => {
      if (live) loadResultsView().catch(() => {});
    });
    // The trace readers right after the first paint, not at idle: opening files is this page's first
    // job, and a busy start-up (sample model, backend probes) leaves no idle time for seconds.
    const frame = requestAnimationFrame(() => setTimeout(() => live && prewarmTraceReaders(), 0));
    return () => {
      live = false;
      cancelAnimationFrame(frame);
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
