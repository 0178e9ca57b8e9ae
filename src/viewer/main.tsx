/** Page entry: start the app's one-time work, then render. */
import { StrictMode } from 'react';
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

init();
// Asks /api/whoami once: only under exray serve does anything change (remote/connection.ts).
initRemote();

const root = document.getElementById('root');
if (!root) throw new Error('exray: #root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
