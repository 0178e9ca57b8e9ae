/**
 * The viewer with a 1,000-node trace in headless Chromium: app shell from navigation start, opening
 * two 1,000-node traces until the table shows every row, scrolling the table to the end (frame
 * times), beside anchors in the same browser: a static page's time to its content, and a static
 * 1,000-row table (plain HTML, no script) scrolled the same way.
 *
 * Measured twice: on the Vite dev server the runner page uses (the figures this benchmark has always
 * reported, unchanged), and on the built page (`vite build` + `vite preview`, what `npm start` and
 * `exray serve` serve), with the same traces, steps and anchor.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openRunnerPage } from '../src/cli/browser.ts';
import { makeChainPair } from '../src/compare/synthetic.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';
import { OPEN_MEASURES, SHELL_MARK } from '../src/viewer/util/marks.ts';
import type { BenchResult } from './types.ts';

interface PageFigures {
  /** ms from navigation start until the harness sees the app shell in the DOM (a round trip to a page that may be busy). */
  ready: number;
  /** ms from navigation start until the shell was in the DOM, by the page's own User Timing mark. */
  shellMark: number;
  /** Navigation Timing, read after `ready` (no probe in the page): DOMContentLoaded end and load event end. */
  nav: { dcl: number; load: number };
  openMs: number;
  /**
   * Where `openMs` goes, from the page's User Timing entries (src/viewer/state/trace-files.ts): the
   * two files read in the trace readers, replayed into runs and compared, then rendered until the
   * table shows every row; `rest` is the remainder (the input event's dispatch, the trace-reader chunk's
   * import, the harness's round trips).
   */
  split: { read: number; compare: number; render: number; rest: number };
  scroll: { frames: number; p95: number; rows: number };
}

/** The app's steps on `page`, already at the app's URL: shell, open the two traces, scroll to the end. */
async function measureApp(page: Page, files: string[]): Promise<PageFigures> {
  await page.getByTestId('open-exray-input').waitFor({ state: 'attached' });
  // Time from navigation start until the app shell is rendered (headless Chromium reports no paint timing).
  const ready = await page.evaluate(() => performance.now());
  const shellMark = await page.evaluate((name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? NaN, SHELL_MARK);
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    return { dcl: n?.domContentLoadedEventEnd ?? NaN, load: n?.loadEventEnd ?? NaN };
  });
  const t0 = Date.now();
  await page.getByTestId('open-exray-input').setInputFiles(files);
  // Resolves with the page's clock when it sees every row (the same condition; the time is for the split).
  const seen = await page.waitForFunction(() => /^1000 of 1000$/.test(document.querySelector('[data-testid=node-count]')?.textContent?.trim() ?? '') && performance.now(), undefined, { timeout: 60_000 });
  const openMs = Date.now() - t0;
  const shownAt = (await seen.jsonValue()) as number;
  // No helper functions inside: tsx would wrap them in a `__name` call the page does not have.
  const split = await page.evaluate(([shown, names]) => {
    const read = performance.getEntriesByName(names.read, 'measure').at(-1);
    const compare = performance.getEntriesByName(names.compare, 'measure').at(-1);
    if (!read || !compare) return null;
    return { read: read.duration, compare: compare.duration, render: shown - (compare.startTime + compare.duration), fromOpen: shown - read.startTime };
  }, [shownAt, OPEN_MEASURES] as const);
  if (!split) throw new Error('the page recorded no opening measures (exray open: read / replay and compare)');
  const scroll = await scrollToEnd(page, '[data-testid=node-rows]', '[data-testid=node-row]');
  const { fromOpen, ...parts } = split;
  return { ready, shellMark, nav, openMs, split: { ...parts, rest: openMs - fromOpen }, scroll };
}

/** Scroll `list` to its end, 240 px a frame; frame times (requestAnimationFrame gaps) and rows in the DOM. */
async function scrollToEnd(page: Page, list: string, row: string): Promise<{ frames: number; p95: number; rows: number }> {
  return page.evaluate(async ([list, row]) => {
    const el = document.querySelector(list) as HTMLElement;
    const gaps: number[] = [];
    let last = performance.now();
    while (el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
      el.scrollTop += 240;
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }
    gaps.sort((a, b) => a - b);
    return { frames: gaps.length, p95: gaps[Math.floor(gaps.length * 0.95)] ?? NaN, rows: document.querySelectorAll(row).length };
  }, [list, row] as const);
}

const STATIC_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>exray anchor</title>
<style>body{font:14px system-ui;margin:0}header{display:flex;gap:1rem;padding:1rem;border-bottom:1px solid #ddd}</style></head>
<body><header><h1>exray</h1><p>Run a model on every browser backend and compare each layer with a reference run.</p>
<label>Open .exray <input type="file" data-testid="anchor-input" hidden></label></header><main><p>How it works</p></main>
<script>performance.mark('${SHELL_MARK}')</script></body></html>`;

/** The scroll anchor: the same 1,000 rows' text as static HTML (no script), in a list of the table's size. */
function staticTable(): string {
  const rows: string[] = [];
  for (let i = 0; i < 1000; i++) {
    rows.push(`<div class="r"><span>${i}</span><span>chain/block_${i}/conv</span><span>Conv2D</span><span>1.2e-7</span><span>3.4e-6</span><span>1.000000</span><span>0.12 ms</span><span>ok</span></div>`);
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>exray anchor table</title>
<style>body{font:13px system-ui;margin:1rem}.list{height:420px;overflow:auto;border:1px solid #ddd}.r{box-sizing:border-box;display:grid;grid-template-columns:3rem 3fr 1.3fr 5.5rem 5.5rem 6.5rem 5.5rem 6.5rem;height:32px;align-items:center;border-bottom:1px solid #eee}</style>
</head><body><div class="list" data-testid="anchor-list">${rows.join('')}</div></body></html>`;
}

interface Anchors {
  /** A static page of the shell's size: ms from navigation start until the harness sees its input in the DOM. */
  pageMs: number;
  /** The same by the page's own mark (an inline script after the input). */
  pageMark: number;
  /** The static 1,000-row table scrolled like the node table: frame times. */
  scroll: { frames: number; p95: number; rows: number };
}

/** The anchors, in a fresh context of the same browser, from the same origin, timed the same way. */
async function anchors(browser: Browser, base: string): Promise<Anchors> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const url = `${base}__exray-bench/static.html`;
    await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: STATIC_PAGE }));
    await page.goto(url);
    await page.getByTestId('anchor-input').waitFor({ state: 'attached' });
    const pageMs = await page.evaluate(() => performance.now());
    const pageMark = await page.evaluate((name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? NaN, SHELL_MARK);
    const tableUrl = `${base}__exray-bench/table.html`;
    await page.route(tableUrl, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: staticTable() }));
    await page.goto(tableUrl);
    const scroll = await scrollToEnd(page, '[data-testid=anchor-list]', '.r');
    return { pageMs, pageMark, scroll };
  } finally {
    await context.close();
  }
}

/** The built page in a fresh context of `browser`: `vite build` into a temporary directory, `vite preview`. */
async function measureBuilt(browser: Browser, files: string[]): Promise<{ app: PageFigures; anchor: Anchors }> {
  const { build, preview } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'exray-bench-dist-'));
  try {
    await build({ logLevel: 'error', build: { outDir, emptyOutDir: true } });
    const server = await preview({ logLevel: 'error', build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false } });
    try {
      const base = server.resolvedUrls?.local[0];
      if (!base) throw new Error('vite preview did not report a local URL');
      const context = await browser.newContext();
      let app: PageFigures;
      try {
        const page = await context.newPage();
        await page.goto(base);
        app = await measureApp(page, files);
      } finally {
        await context.close();
      }
      return { app, anchor: await anchors(browser, base) };
    } finally {
      await server.close();
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

export async function benchViewer(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'exray-bench-'));
  const { edge, ref } = makeChainPair({ nodes: 1000, elements: 4096, noise: 1e-7, injectAt: 600 });
  const files = [join(dir, 'edge.exray'), join(dir, 'ref.exray')];
  writeFileSync(files[0]!, encodeTrace(edge));
  writeFileSync(files[1]!, encodeTrace(ref));
  const session = await openRunnerPage(join('models', 'nsfw-mobilenet-v2'));
  try {
    const { page, base } = session;
    await page.goto(base);
    const dev = await measureApp(page, files);
    const browser = page.context().browser();
    if (!browser) throw new Error('the runner page has no browser');
    const devAnchor = await anchors(browser, base);
    const built = await measureBuilt(browser, files);
    return [
      { name: 'viewer app shell rendered (from navigation start)', value: dev.ready, unit: 'ms' },
      { name: 'viewer open two 1000-node traces until the table shows all rows', value: dev.openMs, unit: 'ms' },
      { name: 'viewer scroll 1000-node table to the end: frames', value: dev.scroll.frames, unit: 'frames' },
      { name: 'viewer scroll 1000-node table: p95 frame time', value: dev.scroll.p95, unit: 'ms' },
      { name: 'viewer scroll 1000-node table: rows in the DOM (virtualized)', value: dev.scroll.rows, unit: 'rows' },
      { name: 'viewer anchor: a static page, same origin and browser (from navigation start)', value: devAnchor.pageMs, unit: 'ms' },
      { name: 'viewer anchor: a static 1000-row table (no script) scrolled the same way: p95 frame time', value: devAnchor.scroll.p95, unit: 'ms' },
      { name: 'viewer built page (vite preview): app shell rendered (from navigation start)', value: built.app.ready, unit: 'ms' },
      // The same moment by the page's own clock: the figure above adds the harness's round trips to a
      // page then busy with its start-up (sample model, backend probes). The anchor is marked alike.
      { name: 'viewer built page: app shell in the DOM, by the page\'s own mark (from navigation start)', value: built.app.shellMark, unit: 'ms' },
      { name: 'viewer built page anchor: a static page\'s input in the DOM, by its own mark (from navigation start)', value: built.anchor.pageMark, unit: 'ms' },
      // Where the shell figure's time goes: the page's own milestones (the shell renders before DOMContentLoaded ends).
      { name: 'viewer built page: DOMContentLoaded end (from navigation start)', value: built.app.nav.dcl, unit: 'ms' },
      { name: 'viewer built page: load event end (from navigation start)', value: built.app.nav.load, unit: 'ms' },
      { name: 'viewer built page: open two 1000-node traces until the table shows all rows', value: built.app.openMs, unit: 'ms' },
      // Where the opening's time goes on the built page (the page's own User Timing entries).
      { name: 'viewer built page: open split: both files read in the trace readers (workers)', value: built.app.split.read, unit: 'ms' },
      { name: 'viewer built page: open split: replayed into runs and compared (page)', value: built.app.split.compare, unit: 'ms' },
      { name: 'viewer built page: open split: rendered until the table shows all rows', value: built.app.split.render, unit: 'ms' },
      { name: 'viewer built page: open split: the rest (input event, reader chunk import, harness round trips)', value: built.app.split.rest, unit: 'ms' },
      { name: 'viewer built page: scroll 1000-node table to the end: frames', value: built.app.scroll.frames, unit: 'frames' },
      { name: 'viewer built page: scroll 1000-node table: p95 frame time', value: built.app.scroll.p95, unit: 'ms' },
      { name: 'viewer built page: scroll 1000-node table: rows in the DOM (virtualized)', value: built.app.scroll.rows, unit: 'rows' },
      { name: 'viewer built page anchor: a static page, same origin and browser (from navigation start)', value: built.anchor.pageMs, unit: 'ms' },
      { name: 'viewer built page anchor: a static 1000-row table (no script) scrolled the same way: p95 frame time', value: built.anchor.scroll.p95, unit: 'ms' },
    ];
  } finally {
    await session.close();
  }
}
