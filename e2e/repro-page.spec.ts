/**
 * Issue #13 on the page: everything the diagnosis says, and the one-click repro bundle.
 *
 * - Repro bundle: emotion with one convolution's filter scaled by 1.2 (the CLI repro test's case), its
 *   edge trace on TF.js wasm and the original's reference trace on cpu opened together, the deployed
 *   model loaded. The page's single-node replays on the original model find the node's own error; its
 *   "repro bundle" button (pressed from the keyboard) downloads a .zip built in the page; the zip holds
 *   the one-node model, the recorded inputs, the reference's output, run.mjs and index.html, and its
 *   run.mjs, run by Node from the unzipped folder with no exray, reproduces the error. The same for the
 *   PaddleOCR classifier (ONNX) with one HardSigmoid's alpha edited, on onnxruntime-web.
 * - Info and runner-up: blazeface fed a jpeg-js decode of butterfly.jpg (a clean run: the decoder is
 *   information, not a cause), and the PaddleOCR classifier fed RGB on a two-tone text line
 *   (channel-order, the per-channel normalisation shown as runner-up with its fit); at 360 px nothing
 *   overflows.
 *
 * The traces are made once, in Node, by e2e/support/make-repro-edges.ts.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { openApp } from './helpers.ts';

interface Cases {
  kernel: { edge: string; reference: string; deployed: string; node: string };
  onnx: { edge: string; reference: string; deployed: string; node: string };
  decoder: { edge: string; photo: string };
  twoTone: { edge: string; photo: string };
}

let cases: Cases;
let dir = '';
const run = promisify(execFile);

test.beforeAll(() => {
  test.setTimeout(180_000);
  dir = mkdtempSync(join(tmpdir(), 'exray-repro-page-'));
  execFileSync('npx', ['tsx', 'e2e/support/make-repro-edges.ts', dir], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 170_000 });
  cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Cases;
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Elements that reach past the viewport's right edge while their parent does not (empty when the page
 * does not scroll sideways): where an overflow starts.
 */
async function sideways(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    if (document.documentElement.scrollWidth <= window.innerWidth + 1) return [];
    const out: string[] = [];
    const past = (el: Element): boolean => {
      const r = el.getBoundingClientRect();
      return r.right > window.innerWidth + 1 && r.width > 0;
    };
    // Inside a box that scrolls or clips sideways, an element widens that box, not the page.
    const clipped = (el: Element): boolean => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) if (getComputedStyle(a).overflowX !== 'visible') return true;
      return false;
    };
    for (const el of document.querySelectorAll('body *')) {
      if (past(el) && !clipped(el) && !(el.parentElement && past(el.parentElement))) out.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}px: ${(el.textContent ?? '').slice(0, 40)}`);
    }
    return out.slice(0, 8);
  });
}

/** Open one edge trace, give the original photo, wait for the diagnosis. */
async function diagnoseInPage(page: Page, edge: string, photo: string): Promise<Locator> {
  await page.getByTestId('open-exray-input').setInputFiles([edge]);
  await expect(page.getByTestId('summary-row')).toHaveCount(1);
  await page.getByTestId('diagnose-photo-input').setInputFiles([photo]);
  const block = page.locator('[data-testid=diagnosis-run][data-photo=true]');
  await expect(block).toHaveAttribute('data-status', /done|failed/, { timeout: 60_000 });
  await expect(block).toHaveAttribute('data-status', 'done');
  console.log(`${edge}: in-page diagnosis ${await block.getByTestId('photo-diagnosis-time').innerText()}`);
  return block;
}

/** The bundle's files by path inside its one folder. */
function unzipBundle(bytes: Uint8Array): { top: string; files: Map<string, Uint8Array>; text(f: string): string } {
  const zip = unzipSync(bytes);
  const names = Object.keys(zip);
  const top = names[0]!.split('/')[0]!;
  expect(names.every((n) => n.startsWith(`${top}/`))).toBe(true);
  const files = new Map(names.map((n) => [n.slice(top.length + 1), zip[n]!]));
  return { top, files, text: (f) => new TextDecoder().decode(files.get(f)) };
}

/** Unzipped under the repo (its node_modules hold the runtime, as `npm install` would), `node run.mjs`. */
async function runBundle(b: ReturnType<typeof unzipBundle>): Promise<{ code: number; out: string }> {
  const out = join(process.cwd(), 'test-artifacts', `repro-page-${process.pid}`, b.top);
  try {
    for (const [n, body] of b.files) {
      mkdirSync(dirname(join(out, n)), { recursive: true });
      writeFileSync(join(out, n), body);
    }
    return await run(process.execPath, ['run.mjs'], { cwd: out, timeout: 60_000 }).then(
      (x) => ({ code: 0, out: x.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
  } finally {
    rmSync(dirname(out), { recursive: true, force: true });
  }
}

test('repro bundle: the edited convolution\'s button downloads a zip built in the page; its run.mjs reproduces the error in Node without exray', async ({ page }, info) => {
  test.setTimeout(120_000);
  const k = cases.kernel;
  await openApp(page);
  const block = page.locator('[data-testid=diagnosis-run][data-stream*="edge.exray"]');
  const split = block.getByTestId('replay-split');
  const button = block.locator(`[data-testid=repro-button][data-node="${k.node}"]`);
  const openTraces = async (): Promise<void> => {
    await page.getByTestId('open-exray-input').setInputFiles([k.edge, k.reference]);
    await expect(split).toHaveAttribute('data-status', /done|failed/, { timeout: 60_000 });
    await expect(split).toHaveAttribute('data-status', 'done');
  };
  // Without the model the edge ran (the page holds only the original emotion, the replays' reference):
  // the button is there, disabled, saying what to do.
  await openTraces();
  await expect(button).toBeDisabled();
  await expect(button).toHaveText(/^repro bundle: load the model the edge ran \(emotion-deployed, sha256 [0-9a-f]{12}…\) in the Model panel/);
  // The model the edge ran (its sha256 is the edge trace's; loading it clears the runs), then the traces again.
  await page.getByTestId('model-file-input').setInputFiles(readdirSync(k.deployed).map((f) => join(k.deployed, f)));
  await expect(page.getByTestId('model-name')).toHaveText('emotion');
  await openTraces();
  // The edited convolution has the largest own error (nrmse ~0.011: beyond the bundle's float32
  // tolerance, below the diagnosis's `kernel` threshold).
  await expect(block.getByTestId('diagnosis-largest-own')).toHaveAttribute('data-node', k.node);
  // One button: the edited node's; the nodes after it only inherit its error.
  const buttons = block.getByTestId('repro-button');
  await expect(buttons).toHaveCount(1);
  await expect(button).toBeEnabled();
  await expect(button).toHaveText('repro bundle (.zip)');
  const own = Number(await block.locator(`[data-testid=replay-node][data-node="${k.node}"]`).first().getAttribute('data-own'));
  expect(own).toBeGreaterThan(1e-3);

  // From the keyboard: focus, Enter.
  await button.focus();
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  await expect(block.getByTestId('repro-status')).toHaveAttribute('data-status', 'done');
  expect(download.suggestedFilename()).toMatch(/^repro-.+\.zip$/);
  const bundle = unzipBundle(new Uint8Array(readFileSync(await download.path())));
  const rel = [...bundle.files.keys()];
  expect(rel).toEqual(expect.arrayContaining(['model.json', 'weights.bin', 'run.mjs', 'index.html', 'package.json', 'README.md', 'repro.json']));
  expect(rel.filter((n) => n.startsWith('inputs/') && n.endsWith('.npy'))).toHaveLength(1);
  expect(rel.filter((n) => n.startsWith('expected/') && n.endsWith('.npy'))).toHaveLength(1);
  // The one-node model: a Placeholder, the convolution's weights as Const nodes, the node.
  const model = JSON.parse(bundle.text('model.json')) as { modelTopology: { node: { op: string; name: string }[] } };
  expect(model.modelTopology.node.map((n) => n.op)).toEqual(['Placeholder', 'Const', 'Const', '_FusedConv2D']);
  expect(model.modelTopology.node.at(-1)!.name).toBe(k.node);
  // No exray anywhere in what runs: the script imports node:fs and TF.js only.
  const script = bundle.text('run.mjs');
  expect([...script.matchAll(/import (?:.* from )?'([^']+)'/g)].map((m) => m[1])).toEqual(['node:fs', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm']);
  expect(script).not.toMatch(/exray/i);
  expect(JSON.parse(bundle.text('package.json')).dependencies).toEqual({ '@tensorflow/tfjs': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.22.0' });
  expect(bundle.text('README.md')).toContain('TF.js cpu in the browser');

  const res = await runBundle(bundle);
  expect(res.code, res.out).toBe(1);
  expect(res.out).toContain(`REPRODUCED: ${k.node} (_FusedConv2D)`);
  const nrmse = Number(/nrmse ([\d.e-]+)/.exec(res.out)?.[1]);
  expect(nrmse).toBeGreaterThan(1e-3);
  // The same error the page measured as the node's own.
  expect(nrmse).toBeCloseTo(own, 4);

  await page.setViewportSize({ width: 360, height: 780 });
  await button.scrollIntoViewIfNeeded();
  expect(await sideways(page)).toEqual([]);
  await split.screenshot({ path: info.outputPath('repro-page-360.png') });
});

test('repro bundle, ONNX: the edited HardSigmoid\'s zip holds model.onnx and reproduces the error with onnxruntime-web in Node', async ({ page }) => {
  test.setTimeout(120_000);
  const k = cases.onnx;
  await openApp(page);
  await page.getByTestId('model-file-input').setInputFiles(readdirSync(k.deployed).map((f) => join(k.deployed, f)));
  await expect(page.getByTestId('model-name')).not.toHaveText('');
  await page.getByTestId('open-exray-input').setInputFiles([k.edge, k.reference]);
  const block = page.locator('[data-testid=diagnosis-run][data-stream*="cls-edge.exray"]');
  const split = block.getByTestId('replay-split');
  await expect(split).toHaveAttribute('data-status', /done|failed/, { timeout: 90_000 });
  await expect(split).toHaveAttribute('data-status', 'done');
  const button = block.locator(`[data-testid=repro-button][data-node="${k.node}"]`);
  await expect(button).toBeEnabled();
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const bundle = unzipBundle(new Uint8Array(readFileSync(await download.path())));
  const rel = [...bundle.files.keys()];
  expect(rel).toEqual(expect.arrayContaining(['model.onnx', 'run.mjs', 'index.html', 'package.json', 'README.md', 'repro.json']));
  expect(rel.filter((n) => n.startsWith('inputs/') && n.endsWith('.npy'))).toHaveLength(1);
  expect(rel.filter((n) => n.startsWith('expected/') && n.endsWith('.npy'))).toHaveLength(1);
  const script = bundle.text('run.mjs');
  expect([...script.matchAll(/import (?:.* from )?'([^']+)'/g)].map((m) => m[1])).toEqual(['node:fs', 'onnxruntime-web']);
  expect(bundle.text('README.md')).toContain('alpha=0.3');
  const res = await runBundle(bundle);
  expect(res.code, res.out).toBe(1);
  expect(res.out).toContain(`REPRODUCED: ${k.node} (HardSigmoid)`);
});

test('an info finding apart from the causes: a JPEG decoded by another decoder, within tolerance', async ({ page }, info) => {
  test.setTimeout(90_000);
  await openApp(page);
  const dec = await diagnoseInPage(page, cases.decoder.edge, cases.decoder.photo);
  await expect(dec).toHaveAttribute('data-top-cause', 'none');
  const finding = dec.locator('[data-testid=diagnosis-info] [data-testid=info-finding][data-code=decoder]');
  await expect(finding).toContainText(/the JPEG was decoded by another decoder than the reference's: [\d.]+ levels rms/);
  await expect(finding).toContainText('not a bug');
  // Not among the causes.
  await expect(dec.locator('[data-testid=causes] [data-code=decoder]')).toHaveCount(0);
  await page.setViewportSize({ width: 360, height: 780 });
  await finding.scrollIntoViewIfNeeded();
  expect(await sideways(page)).toEqual([]);
  await dec.screenshot({ path: info.outputPath('repro-page-info-360.png') });
});

test('the runner-up explanation with its fit, opened from the keyboard: RGB fed to a BGR model on a two-tone text line', async ({ page }, info) => {
  test.setTimeout(90_000);
  await openApp(page);
  const tone = await diagnoseInPage(page, cases.twoTone.edge, cases.twoTone.photo);
  await expect(tone).toHaveAttribute('data-top-cause', 'channel-order');
  const alt = tone.locator('[data-testid=cause][data-code=channel-order] [data-testid=cause-alternative]').first();
  await expect(alt).toHaveAttribute('data-codes', 'normalization');
  expect(Number(await alt.getAttribute('data-residual'))).toBeLessThan(1);
  await expect(alt).toContainText(/runner-up\s*normalization\s*fits as well: [\d.]+ levels rms/);
  await expect(alt.locator('summary')).toContainText('per-channel mean/std the card does not use');
  const fit = alt.getByTestId('alternative-fit');
  await expect(fit).toBeHidden();
  await alt.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expect(fit).toBeVisible();
  await expect(fit).toContainText('channels BGR');

  await page.setViewportSize({ width: 360, height: 780 });
  await alt.scrollIntoViewIfNeeded();
  expect(await sideways(page)).toEqual([]);
  await tone.screenshot({ path: info.outputPath('repro-page-runner-up-360.png') });
});
