/** The page: set-up on the left (a model, a photo, backends), results on the right; one column on a phone. */
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { filesFromDataTransfer } from './load/dropped-files.ts';
import { handleFiles } from './state/controller.ts';
import { useApp } from './state/store.ts';
import { ModelPanel } from './components/ModelPanel.tsx';
import { InputPanel } from './components/InputPanel.tsx';
import { BackendPanel } from './components/BackendPanel.tsx';
import { Results } from './components/Results.tsx';
import { FilesBar } from './components/FilesBar.tsx';
import { useRemote } from './remote/remote-state.ts';

// Only under exray serve (a phone's page, the desktop's Phones panel): their own chunks.
const PhonePage = lazy(() => import('./remote/PhonePage.tsx').then((m) => ({ default: m.PhonePage })));
const PhonesPanel = lazy(() => import('./remote/PhonesPanel.tsx').then((m) => ({ default: m.PhonesPanel })));

/** Files dropped anywhere outside a drop zone: classified by kind (trace, photo, model). */
function usePageDrop(): boolean {
  const [over, setOver] = useState(false);
  useEffect(() => {
    const onOver = (e: DragEvent): void => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      setOver(true);
    };
    const onLeave = (e: DragEvent): void => {
      if (e.relatedTarget === null) setOver(false);
    };
    const onDrop = (e: DragEvent): void => {
      setOver(false);
      if (!e.dataTransfer) return;
      e.preventDefault();
      void filesFromDataTransfer(e.dataTransfer).then(handleFiles);
    };
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
    };
  }, []);
  return over;
}

export function App(): ReactNode {
  const s = useApp();
  const remote = useRemote();
  const over = usePageDrop();
  // Served by exray serve (remote/): a phone gets its own small page, the desktop a Phones panel.
  if (remote.phone) {
    return (
      <Suspense fallback={null}>
        <PhonePage />
      </Suspense>
    );
  }
  const desktop = remote.detection === 'remote' && remote.identity?.role === 'desktop';
  return (
    <div className={`app${over ? ' page-drop' : ''}`}>
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ✕
          </span>
          <div>
            <h1>exray</h1>
            <p className="tagline">Run a model on every browser backend and compare each layer with a reference run (TF.js cpu, or onnxruntime wasm for ONNX).</p>
          </div>
        </div>
        <FilesBar />
      </header>
      {s.notice && (
        <div className="notice" role="status" data-testid="notice">
          <pre>{s.notice}</pre>
        </div>
      )}
      <main className="layout">
        <aside className="setup">
          <ModelPanel />
          <InputPanel />
          <BackendPanel />
        </aside>
        <section className="results" aria-label="results">
          {desktop && (
            <Suspense fallback={null}>
              <PhonesPanel />
            </Suspense>
          )}
          <Results />
        </section>
      </main>
      <footer className="footer">
        Drop a model folder, a photo or <code>.exray</code> files anywhere on the page.{' '}
        {desktop ? 'Local runs stay in this browser; phone sessions come from exray serve on this machine.' : 'Everything runs in this browser; nothing is uploaded.'}
      </footer>
    </div>
  );
}
