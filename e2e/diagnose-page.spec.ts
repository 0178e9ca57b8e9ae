/**
 * `exray diagnose <edge.exray> --image <photo>` in the page: an opened edge trace with a real
 * pre-processing bug, given its original photo, names the same causes as the CLI (same pure functions,
 * src/diagnose/photo.ts); a clean trace gives `none`; user assertions typed in the page run over the
 * finished runs, with syntax and runtime errors listed as failed assertions.
 *
 * Kernel bugs (one node computes wrongly on its own inputs): the page replays the suspicious nodes
 * alone in a trace worker on the CLI's reference backend, with the edge's recorded inputs, and names
 * the same `kernel` node as the CLI.
 *
 * The edge traces and the CLI's answers are made once, in Node, by e2e/support/make-edges.ts
 * (nsfw-mobilenet-v2: BGR + [0,255]; clean; EXIF orientation 6 ignored; a convolution's weights scaled
 * by 1.02; the ONNX PaddleOCR orientation classifier fed RGB in [0,1], and with a HardSigmoid's alpha
 * edited).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import type { Diagnosis } from '../src/diagnose/index.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { keepScreenshot, openApp } from './helpers.ts';

interface Case {
  name: string;
  file: string;
  photo: string;
  cli: string;
  /** Kernel cases: the node made wrong. */
  target?: string;
}

let cases: Record<string, Case & { diagnosis: Diagnosis }> = {};
let dir = '';

test.beforeAll(() => {
  test.setTimeout(300_000);
  dir = mkdtempSync(join(tmpdir(), 'exray-diagnose-page-'));
  execFileSync('npx', ['tsx', 'e2e/support/make-edges.ts', dir], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 280_000 });
  const list = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Case[];
  cases = Object.fromEntries(list.map((c) => [c.name, { ...c, diagnosis: JSON.parse(readFileSync(c.cli, 'utf8')) as Diagnosis }]));
});

// Three MobileNetV2 traces in `tensors` mode: ~90 MB each.
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Open one edge trace, give the original photo, wait for the diagnosis. Returns its block. */
async function diagnoseInPage(page: Page, c: Case, photo = c.photo): Promise<Locator> {
  await page.getByTestId('open-exray-input').setInputFiles([c.file]);
  await expect(page.getByTestId('summary-row')).toHaveCount(1);
  await page.getByTestId('diagnose-photo-input').setInputFiles([photo]);
  const run = page.locator('[data-testid=diagnosis-run][data-photo=true]');
  await expect(run).toHaveAttribute('data-status', /done|failed/, { timeout: 150_000 });
  await expect(run).toHaveAttribute('data-status', 'done');
  const ms = await run.getByTestId('photo-diagnosis-time').getAttribute('data-ms');
  console.log(`${c.name}: in-page diagnosis ${ms} ms (${await run.getByTestId('photo-diagnosis-time').innerText()})`);
  return run;
}

/** Drop files anywhere on the page (outside the drop zones), as a user drags them in from the desktop. */
async function dropOnPage(page: Page, files: string[]): Promise<void> {
  await page.evaluate(() => {
    const i = document.createElement('input');
    i.type = 'file';
    i.multiple = true;
    i.hidden = true;
    i.id = 'e2e-drop-source';
    document.body.append(i);
  });
  await page.locator('#e2e-drop-source').setInputFiles(files);
  await page.evaluate(() => {
    const i = document.getElementById('e2e-drop-source') as HTMLInputElement;
    const dt = new DataTransfer();
    for (const f of Array.from(i.files ?? [])) dt.items.add(f);
    i.remove();
    for (const type of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
}

async function pageCauses(run: Locator): Promise<{ code: string; confidence: number; node: string | null; detail: string }[]> {
  const items = run.getByTestId('cause');
  const out = [];
  for (let i = 0; i < (await items.count()); i++) {
    const li = items.nth(i);
    const node = li.getByTestId('cause-node');
    out.push({
      code: (await li.getAttribute('data-code')) ?? '',
      confidence: Number(await li.getAttribute('data-confidence')),
      node: (await node.count()) > 0 ? (await node.innerText()).trim() : null,
      detail: (await li.getByTestId('cause-detail').innerText()).trim(),
    });
  }
  return out;
}

function cliCauses(d: Diagnosis): { code: string; confidence: number; node: string | null; detail: string }[] {
  return d.causes.map((c) => ({ code: c.code, confidence: c.confidence, node: c.node ?? null, detail: c.detail }));
}

test('an edge trace fed BGR in [0,255], diagnosed against the original photo: channel-order + normalization, as the CLI says', async ({ page }, info) => {
  await openApp(page);
  const c = cases['bgr-0-255']!;
  const run = await diagnoseInPage(page, c);
  await expect(run).toHaveAttribute('data-top-cause', /channel-order|normalization/);
  await expect(run.locator('[data-testid=cause][data-code=channel-order]')).toContainText('channels fed as BGR, the model expects RGB');
  await expect(run.locator('[data-testid=cause][data-code=normalization]')).toContainText('given [0, 255], expected [0, 1]');
  await expect(run.getByTestId('cause')).toHaveCount(2);
  // The same causes as `exray diagnose --image --json` for the same files.
  expect(await pageCauses(run)).toEqual(cliCauses(c.diagnosis));
  await expect(run.getByTestId('diagnosis-first-divergent')).toContainText(c.diagnosis.firstDivergentNode!);
  // Input evidence: channels and value range differ from the card's.
  const ev = run.getByTestId('input-evidence');
  await expect(ev).toHaveAttribute('data-matches', 'false');
  await expect(ev.locator('tr.bad')).toHaveCount(2);
  await expect(ev).toContainText('BGR');
  // The built-in assertions with the input search: input-range and channel-order fail.
  const asserts = page.locator('[data-testid=assertions-run][data-stream*="bgr-0-255.exray"]');
  await expect(asserts.locator('[data-testid=assertion][data-id=channel-order]')).toHaveAttribute('data-ok', 'failed');
  await expect(asserts.locator('[data-testid=assertion][data-id=input-range]')).toHaveAttribute('data-ok', 'failed');
  // The canonical-input reference joined the session: the summary compares against it.
  await expect(page.locator('[data-testid=summary-row][data-verdict=reference]')).toHaveCount(1);
  // No photo or model warnings: the trace recorded this photo and this model.
  await expect(run.getByTestId('diagnosis-warning')).toHaveCount(0);
  await keepScreenshot(page, info, 'diagnose-page-bgr');
});

test('EXIF orientation ignored on the edge, trace and photo dropped together: orientation, as the CLI says', async ({ page }) => {
  await openApp(page);
  const c = cases['exif-ignored']!;
  await dropOnPage(page, [c.file, c.photo]);
  const run = page.locator('[data-testid=diagnosis-run][data-photo=true]');
  await expect(run).toHaveAttribute('data-status', /done|failed/, { timeout: 150_000 });
  await expect(run).toHaveAttribute('data-status', 'done');
  await expect(page.locator('[data-testid=summary-row]')).toHaveCount(2); // the edge + the canonical-input reference
  await expect(run).toHaveAttribute('data-top-cause', 'orientation');
  await expect(run.locator('[data-testid=cause][data-code=orientation]')).toContainText('EXIF orientation 6 ignored');
  expect(await pageCauses(run)).toEqual(cliCauses(c.diagnosis));
  const asserts = page.locator('[data-testid=assertions-run][data-stream*="exif-ignored.exray"]');
  await expect(asserts.locator('[data-testid=assertion][data-id=exif-orientation]')).toHaveAttribute('data-ok', 'failed');
});

test('ONNX (PaddleOCR orientation classifier) fed RGB in [0,1]: channel-order + normalization, as the CLI says', async ({ page }) => {
  await openApp(page);
  const c = cases['onnx-rgb-0-1']!;
  const run = await diagnoseInPage(page, c);
  await expect(run.locator('[data-testid=cause][data-code=channel-order]')).toContainText('RGB');
  await expect(run.locator('[data-testid=cause][data-code=normalization]')).toContainText('expected [-1, 1]');
  // The page's reference is onnxruntime-web wasm, the CLI's onnxruntime-node: the input causes agree.
  const inputCodes = ['channel-order', 'normalization'];
  const pick = (xs: { code: string }[]): unknown[] => xs.filter((x) => inputCodes.includes(x.code));
  expect(pick(await pageCauses(run))).toEqual(pick(cliCauses(c.diagnosis)));
  expect(pick(cliCauses(c.diagnosis))).toHaveLength(2);
  await expect(page.locator('[data-testid=summary-row][data-verdict=reference]')).toContainText('wasm');
});

/** Own and inherited error per replayed node, as the page shows them. */
async function pageReplays(run: Locator): Promise<Map<string, { own: number; inherited: number }>> {
  const rows = run.getByTestId('replay-node');
  const out = new Map<string, { own: number; inherited: number }>();
  for (let i = 0; i < (await rows.count()); i++) {
    const r = rows.nth(i);
    out.set((await r.getAttribute('data-node'))!, { own: Number(await r.getAttribute('data-own')), inherited: Number(await r.getAttribute('data-inherited')) });
  }
  return out;
}

/** The CLI's own/inherited split of `node` (first output). */
function cliSplit(d: Diagnosis, node: string): { own: number; inherited: number } {
  const a = d.nodes.find((n) => n.node === node && n.own !== null)!;
  return { own: a.own!, inherited: a.inherited! };
}

test('a convolution with wrong weights (MobileNetV2), diagnosed against the photo: kernel on the CLI\'s node, own vs inherited from single-node replays on cpu', async ({ page }, info) => {
  await openApp(page);
  const c = cases['kernel-conv']!;
  const cli = c.diagnosis;
  expect(cli.causes.map((x) => x.code), cli.summary).toEqual(['kernel']);
  expect(cli.causes[0]!.node).toBe(c.target);
  const run = await diagnoseInPage(page, c);
  await expect(run).toHaveAttribute('data-top-cause', 'kernel');
  // The same reference backend (TF.js cpu) and the same replay code: the same causes, word for word.
  expect(await pageCauses(run)).toEqual(cliCauses(cli));
  await expect(run.locator('[data-testid=cause][data-code=kernel]')).toContainText(`${c.target} (`);
  await expect(run.locator('[data-testid=cause][data-code=kernel]')).toContainText('is wrong on its own inputs: replayed alone on cpu');
  await expect(run.getByTestId('diagnosis-first-divergent')).toContainText(cli.firstDivergentNode!);
  // Own vs inherited per replayed node: the target's error is its own, as the CLI measured it.
  const split = run.getByTestId('replay-split');
  await expect(split).toHaveAttribute('data-status', 'done');
  expect(Number(await split.getAttribute('data-requested'))).toBe(cli.nodes.filter((n) => n.own !== null || n.replayNote).length);
  const rows = await pageReplays(run);
  const mine = rows.get(c.target!)!;
  expect(mine).toEqual(cliSplit(cli, c.target!));
  expect(mine.own).toBeGreaterThan(1e-3);
  for (const [node, r] of rows) if (node !== c.target) expect(r).toEqual(cliSplit(cli, node));
  await keepScreenshot(page, info, 'diagnose-page-kernel');
});

test('ONNX (PaddleOCR classifier) with a HardSigmoid\'s alpha edited: kernel on the CLI\'s node, replayed on onnxruntime-web wasm', async ({ page }) => {
  await openApp(page);
  const c = cases['onnx-kernel']!;
  const cli = c.diagnosis;
  expect(cli.causes.map((x) => x.code), cli.summary).toEqual(['kernel']);
  expect(cli.causes[0]!.node).toBe(c.target);
  const run = await diagnoseInPage(page, c);
  await expect(run).toHaveAttribute('data-top-cause', 'kernel');
  const causes = await pageCauses(run);
  expect(causes.map((x) => [x.code, x.node])).toEqual(cliCauses(cli).map((x) => [x.code, x.node]));
  // The CLI ran onnxruntime-web wasm in Node, the page onnxruntime-web wasm in a worker.
  expect(causes.map((x) => x.confidence)).toEqual(cliCauses(cli).map((x) => x.confidence));
  await expect(run.locator('[data-testid=cause][data-code=kernel]')).toContainText(`${c.target} (HardSigmoid) is wrong on its own inputs: replayed alone on wasm`);
  const mine = (await pageReplays(run)).get(c.target!)!;
  const theirs = cliSplit(cli, c.target!);
  expect(mine.own).toBeCloseTo(theirs.own, 4);
  expect(mine.inherited).toBeLessThan(1e-5);
});

test('a clean trace gives none; another photo is flagged; user assertions (a failing one, a runtime error, a syntax error)', async ({ page }, info) => {
  await openApp(page);
  const c = cases['clean']!;
  const run = await diagnoseInPage(page, c);
  await expect(run).toHaveAttribute('data-top-cause', 'none');
  await expect(run.getByTestId('cause')).toHaveCount(1);
  expect(await pageCauses(run)).toEqual(cliCauses(c.diagnosis));
  await expect(run.getByTestId('input-evidence')).toHaveAttribute('data-matches', 'true');

  // User assertions over every finished run (the edge and the page's reference run).
  const editor = page.getByTestId('user-assertions');
  if (!(await editor.evaluate((d) => (d as HTMLDetailsElement).open))) await editor.locator('summary').click();
  await page.getByTestId('user-assertions-text').fill(
    [
      "import { defineAssertion } from './src/diagnose/index.ts';",
      'export default defineAssertion({',
      "  id: 'output-max',",
      "  description: 'the largest output value is below 0.5',",
      '  check: (trace) => {',
      '    const p = trace.blobs.get(trace.header.outputs[0].blob.id);',
      '    const m = Math.max(...p);',
      "    return { ok: m < 0.5, detail: 'max ' + m.toFixed(4) };",
      '  },',
      '});',
      "export const boom = defineAssertion({ id: 'boom', description: 'reads what is not there', check: (trace) => trace.header.nothing.here });",
    ].join('\n'),
  );
  await page.getByTestId('user-assertions-apply').click();
  const edgeAsserts = page.locator('[data-testid=assertions-run][data-stream*="clean.exray"]');
  const mine = edgeAsserts.locator('[data-testid=assertion][data-id=output-max]');
  await expect(mine).toHaveAttribute('data-ok', 'failed');
  await expect(mine).toHaveAttribute('data-user', 'true');
  const edge = decodeTrace(readFileSync(c.file), c.file);
  const max = Math.max(...edge.blobs.get(edge.header.outputs[0]!.blob!.id)!);
  expect(max).toBeGreaterThanOrEqual(0.5);
  await expect(mine).toContainText(`max ${max.toFixed(4)}`);
  const boom = edgeAsserts.locator('[data-testid=assertion][data-id=boom]');
  await expect(boom).toHaveAttribute('data-ok', 'failed');
  await expect(boom).toContainText("threw: Cannot read properties of undefined (reading 'here')");
  // The reference run gets them too.
  const refAsserts = page.locator('[data-testid=assertions-run][data-stream="reference (canonical input)"]');
  await expect(refAsserts.locator('[data-testid=assertion][data-id=output-max][data-user=true]')).toHaveAttribute('data-ok', 'failed');
  await keepScreenshot(page, info, 'diagnose-page-user-assertions');

  // A syntax error: one failed assertion with the parser's message, the page keeps working.
  await page.getByTestId('user-assertions-text').fill("export default defineAssertion({ id: 'broken', description: 'x', check: (t) => t.header. });");
  await page.getByTestId('user-assertions-apply').click();
  const broken = edgeAsserts.locator('[data-testid=assertion][data-id=user-assertions]');
  await expect(broken).toHaveAttribute('data-ok', 'failed');
  await expect(broken).toContainText('threw: SyntaxError');
  await expect(page.getByTestId('user-assertions-error')).toContainText('SyntaxError');
  await expect(edgeAsserts.locator('[data-testid=assertion][data-id=output-max]')).toHaveCount(0);
  await expect(run).toHaveAttribute('data-top-cause', 'none');

  // Kept for the session: the text survives a reload.
  await page.reload();
  expect(await page.evaluate(() => localStorage.getItem('exray.userAssertions'))).toContain("id: 'broken'");

  // Another photo than the one the trace recorded: said so, and no input cause is claimed.
  await openApp(page);
  const other = await diagnoseInPage(page, c, join('public', 'samples', 'astronaut.png'));
  await expect(other.getByTestId('diagnosis-warning').filter({ hasText: 'is not the file the edge trace recorded (sha256 differs)' })).toHaveCount(1);
  await expect(other.getByTestId('input-evidence')).toHaveAttribute('data-explained', 'false');
  await expect(other.locator('[data-testid=cause][data-code=channel-order], [data-testid=cause][data-code=normalization], [data-testid=cause][data-code=orientation]')).toHaveCount(0);

  // A file that is not a photo: the diagnosis fails with the reason, the page stays usable.
  await page.getByTestId('diagnose-photo-input').setInputFiles([{ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') }]);
  const failed = page.locator('[data-testid=diagnosis-run][data-photo=true]');
  await expect(failed).toHaveAttribute('data-status', 'failed');
  await expect(failed.getByTestId('photo-diagnosis-error')).toContainText('notes.png: not a supported image file');
});
