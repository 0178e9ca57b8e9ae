/**
 * The farm report page (`exray farm` writes it into index.html): one inline script, built by Vite as an
 * IIFE (vite.config.ts, exrayFarmReport), reading the report from `<script type="application/json"
 * id="exray-farm">`. Inline because pages opened from disk (file://) may not load module scripts or
 * fetch files beside them; the CSS comes in the same script for the same reason.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import css from './farm.css?inline';
import { ReportApp } from './ReportApp.tsx';
import { parseReport } from './data.ts';

function start(): void {
  const style = document.createElement('style');
  style.textContent = `${uplotCss}\n${css}`;
  document.head.appendChild(style);
  const root = document.getElementById('root');
  if (!root) return;
  const report = parseReport(document.getElementById('exray-farm')?.textContent ?? '');
  if (typeof report === 'string') {
    // The static table stays; say why the interactive page did not start.
    root.textContent = `exray farm report: ${report}`;
    return;
  }
  document.getElementById('static')?.remove();
  createRoot(root).render(
    <StrictMode>
      <ReportApp report={report} />
    </StrictMode>,
  );
}

start();
