/**
 * What a farm run writes (docs/farm.md): `summary.json` (schemaVersion 1), `junit.xml` in the shape
 * Playwright's junit reporter writes (one testsuite per model, one testcase per cell), and a
 * self-contained `index.html` (inline CSS, no script, no external loads: opens from file://).
 */
import type { CellAccuracy } from './accuracy.ts';

export const SUMMARY_SCHEMA_VERSION = 1;

export type CellStatus = 'passed' | 'failed' | 'error' | 'skipped';

export interface CellEnvironment {
  userAgent: string;
  platform: string;
  hardwareConcurrency: number;
  floatPrecision: number | null;
  gpuRenderer: string | null;
  webglFloatTextures: boolean | null;
  crossOriginIsolated: boolean | null;
}

export interface CellSummary {
  /** `model › device › backend` (also the JUnit testcase name). */
  id: string;
  model: string;
  device: string;
  backend: string;
  status: CellStatus;
  /** Why the cell failed, errored or was skipped. */
  reason: string | null;
  attempts: number;
  seconds: number;
  environment: CellEnvironment | null;
  /** Median over inputs of each trace's median run time, ms; first (cold) run of the first input. */
  latency: { medianMs: number; firstRunMs: number } | null;
  accuracy: CellAccuracy | null;
  diagnosis: { cause: string; causes: string[]; firstDivergentNode: string | null; summary: string; input: string } | null;
  /** Edge traces, relative to the report folder, one per input. */
  traces: { input: string; path: string }[];
}

export interface FarmSummary {
  schemaVersion: typeof SUMMARY_SCHEMA_VERSION;
  tool: 'exray farm';
  createdAt: string;
  seconds: number;
  reference: { backend: string; traces: { model: string; input: string; path: string }[] };
  tolerance: { nrmse: number | null; top1: number };
  models: string[];
  devices: { name: string; kind: string }[];
  backends: string[];
  totals: { cells: number; passed: number; failed: number; errors: number; skipped: number };
  /** Cell ids grouped by the diagnosed cause (`none` never appears: only divergent cells are diagnosed). */
  causes: Record<string, string[]>;
  exitCode: 0 | 1;
  cells: CellSummary[];
}

export function xmlEscape(s: string): string {
  // Characters XML 1.0 does not allow at all are dropped, not escaped.
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function secs(s: number): string {
  return (Math.round(s * 1000) / 1000).toString();
}

export function failureMessage(c: CellSummary): string {
  if (c.status === 'error') return c.reason ?? 'error';
  const node = c.diagnosis?.firstDivergentNode ?? c.accuracy?.firstDivergentNode ?? null;
  const cause = c.diagnosis?.cause ?? 'not diagnosed';
  return `${c.reason ?? 'diverged'}; first divergent node: ${node ?? 'none'}; cause: ${cause}`;
}

/** JUnit XML as Playwright's junit reporter writes it: testsuites › testsuite (per model) › testcase (per cell). */
export function junitXml(s: FarmSummary): string {
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const bad = s.totals.failed + s.totals.errors;
  lines.push(`<testsuites id="exray farm" name="exray farm" tests="${s.totals.cells}" failures="${bad}" skipped="${s.totals.skipped}" errors="0" time="${secs(s.seconds)}">`);
  for (const model of s.models) {
    const cells = s.cells.filter((c) => c.model === model);
    const failures = cells.filter((c) => c.status === 'failed' || c.status === 'error').length;
    const skipped = cells.filter((c) => c.status === 'skipped').length;
    const time = cells.reduce((a, c) => a + c.seconds, 0);
    lines.push(`<testsuite name="${xmlEscape(model)}" timestamp="${xmlEscape(s.createdAt)}" hostname="${xmlEscape(model)}" tests="${cells.length}" failures="${failures}" skipped="${skipped}" time="${secs(time)}" errors="0">`);
    for (const c of cells) {
      lines.push(`<testcase name="${xmlEscape(c.id)}" classname="${xmlEscape(`${c.model}.${c.device}`)}" time="${secs(c.seconds)}">`);
      if (c.status === 'skipped') lines.push(`<skipped message="${xmlEscape(c.reason ?? 'skipped')}"/>`);
      else if (c.status === 'failed' || c.status === 'error') {
        const message = failureMessage(c);
        const type = c.status === 'error' ? 'error' : (c.diagnosis?.cause ?? 'divergence');
        lines.push(`<failure message="${xmlEscape(message)}" type="${xmlEscape(type)}">`);
        lines.push(`<![CDATA[${(c.diagnosis?.summary ?? message).replace(/]]>/g, ']]]]><![CDATA[>')}]]>`);
        lines.push('</failure>');
      }
      if (c.traces.length) {
        lines.push('<system-out>');
        lines.push(`<![CDATA[${c.traces.map((t) => `${t.input}: ${t.path}`).join('\n').replace(/]]>/g, ']]]]><![CDATA[>')}\n]]>`);
        lines.push('</system-out>');
      }
      lines.push('</testcase>');
    }
    lines.push('</testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(x: number | null | undefined, digits = 3): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toPrecision(digits) : '–';
}

/** The report page's script (dist/farm-report.js, inlined) and the sha256 (base64) its CSP allows. */
export interface ReportApp {
  script: string;
  sha256: string;
}

/** A script text that cannot end its `<script>` element early (`<\/` is `</` in JS strings and regexes). */
export function inlineScriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

/**
 * index.html: a static table of the cells (links are relative, so the folder can move), and, with the
 * report app, the interactive page drawn over it from the embedded JSON (`reportJson`). Opened from
 * disk it loads nothing: the CSP allows only this one inline script (by hash) and inline styles.
 */
export function indexHtml(s: FarmSummary, opts: { app?: ReportApp | null; json?: string } = {}): string {
  const rows = s.cells.map((c) => {
    const a = c.accuracy;
    const links = c.traces.map((t) => `<a href="${htmlEscape(encodeURI(t.path))}">${htmlEscape(t.input)}</a>`).join(' ');
    return `<tr class="${c.status}"><td>${htmlEscape(c.model)}</td><td>${htmlEscape(c.device)}</td><td>${htmlEscape(c.backend)}</td><td>${c.status}</td>`
      + `<td>${num(c.latency?.medianMs)}</td><td>${a?.top1Agreement == null ? '–' : `${Math.round(a.top1Agreement * 100)}%`}</td>`
      + `<td>${num(a?.outputNrmse.max)}</td><td>${htmlEscape(c.diagnosis?.firstDivergentNode ?? a?.firstDivergentNode ?? '')}</td>`
      + `<td>${htmlEscape(c.diagnosis?.cause ?? '')}</td><td>${htmlEscape(c.reason ?? '')}</td><td>${links}</td></tr>`;
  });
  const t = s.totals;
  const app = opts.app && opts.json !== undefined ? opts.app : null;
  const scriptSrc = app ? `; script-src 'sha256-${app.sha256}'` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>exray farm</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'${scriptSrc}">
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr.passed td:nth-child(4){color:#176f2c}tr.failed td:nth-child(4),tr.error td:nth-child(4){color:#b00020;font-weight:600}
tr.skipped{color:#777}
</style></head><body>
<div id="root"></div>
<div id="static">
<h1>exray farm</h1>
<p>${htmlEscape(s.createdAt)} · ${t.cells} cells: ${t.passed} passed, ${t.failed} failed, ${t.errors} errors, ${t.skipped} skipped · reference ${htmlEscape(s.reference.backend)} · exit code ${s.exitCode}</p>
<table><thead><tr><th>model</th><th>device</th><th>backend</th><th>status</th><th>latency ms</th><th>top-1 agreement</th><th>max output nrmse</th><th>first divergent node</th><th>cause</th><th>reason</th><th>traces</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<p>summary.json has every figure (per-layer error spread included); junit.xml is for CI.${app ? '' : ' The interactive report was not built (dist/farm-report.js is missing: run `npx vite build`).'}</p>
</div>
${app ? `<script type="application/json" id="exray-farm">${opts.json}</script>\n<script>${app.script}</script>\n` : ''}</body></html>
`;
}
