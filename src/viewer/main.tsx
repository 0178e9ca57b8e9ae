/** Page entry: start the app's one-time work, then render. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'uplot/dist/uPlot.min.css';
import './styles/base.css';
import './styles/setup.css';
import './styles/results.css';
import './styles/phone.css';
import { App } from './App.tsx';
import { init } from './state/controller.ts';

init();

const root = document.getElementById('root');
if (!root) throw new Error('exray: #root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
