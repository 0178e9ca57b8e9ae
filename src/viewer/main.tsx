/** Page entry: start the app's one-time work, then render. */
import { StrictMode } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import 'uplot/dist/uPlot.min.css';
import './styles/base.css';
import './styles/setup.css';
import './styles/results.css';
import './styles/phone.css';
import './styles/remote.css';
import { App } from './App.tsx';
import { init } from './state/controller.ts';
import { initRemote } from './remote/remote-state.ts';
import { SHELL_MARK } from './util/marks.ts';

init();
// Asks /api/whoami once: only under exray serve does anything change (remote/connection.ts).
initRemote();

const root = document.getElementById('root');
if (!root) throw new Error('exray: #root is missing from index.html');
// The shell renders while this module runs, not in a scheduler task after it: it is in the DOM before
// DOMContentLoaded, and the start-up work above (sample index, probes) is answered after it paints.
const reactRoot = createRoot(root);
flushSync(() =>
  reactRoot.render(
    <StrictMode>
      <App />
    </StrictMode>,
  ),
);
// When the shell is in the DOM, by the page's own clock (the viewer benchmark reads it; DevTools shows it).
performance.mark(SHELL_MARK);
