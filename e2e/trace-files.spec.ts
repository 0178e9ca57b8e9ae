/**
 * Runs saved as `.exray`, opened again (one to view, two to compare, by file picker and by drop), and
 * the Perfetto / Model Explorer exports.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Download, type Page } from '@playwright/test';
import { chooseSample, openApp, runAndWait, selectBackends, setOptions, summaryRow } from './helpers.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

async function save(page: Page, stream: string, testId: string): Promise<Download> {
  const [download] = await Promise.all([page.waitForEvent('download'), summaryRow(page, stream).getByTestId(testId).click()]);
  return download;
}

test('save runs as .exray, open one to view and two to compare; export Perfetto and Model Explorer JSON', async ({ page }, info) => {
  await openApp(page);
  await chooseSample(page, 'emotion', 'astronaut.png');
  await setOptions(page, { runs: 1 });
  await selectBackends(page, ['cpu', 'wasm']);
  await runAndWait(page);

  const refFile = info.outputPath('emotion-reference.exray');
  const wasmFile = info.outputPath('emotion-wasm.exray');
  const ref = await save(page, 'cpu (reference)', 'save-exray');
  expect(ref.suggestedFilename()).toMatch(/\.exray$/);
  await ref.saveAs(refFile);
  await (await save(page, 'wasm', 'save-exray')).saveAs(wasmFile);
  expect(readFileSync(wasmFile).subarray(0, 2).toString('latin1')).toBe('PK'); // a zip

  const perfetto = info.outputPath('wasm.perfetto.json');
  await (await save(page, 'wasm', 'export-perfetto')).saveAs(perfetto);
  const chrome = JSON.parse(readFileSync(perfetto, 'utf8')) as { traceEvents: { ph: string; name: string }[] };
  expect(chrome.traceEvents.filter((e) => e.ph === 'X').length).toBeGreaterThan(10);

  const me = info.outputPath('wasm.model-explorer.json');
  await (await save(page, 'wasm', 'export-model-explorer')).saveAs(me);
  const nodeData = JSON.parse(readFileSync(me, 'utf8')) as { results: Record<string, { value: number }>; gradient?: unknown[] };
  expect(Object.keys(nodeData.results).length).toBeGreaterThan(10);
  expect(Object.values(nodeData.results).every((r) => r.value < 1e-4)).toBe(true);

  // One file: viewed on its own, no comparison.
  await page.getByTestId('open-exray-input').setInputFiles([wasmFile]);
  await expect(page.getByTestId('opened-note')).toContainText('One trace');
  await expect(page.getByTestId('summary-row')).toHaveCount(1);
  await expect(page.getByTestId('node-count')).toHaveText(/^(\d+) of \1$/);

  // Two files (edge first): compared, the cpu one is the reference.
  await page.getByTestId('open-exray-input').setInputFiles([wasmFile, refFile]);
  await expect(page.getByTestId('summary-row')).toHaveCount(2);
  const edge = page.locator('[data-testid=summary-row][data-verdict=ok]');
  await expect(edge).toHaveCount(1);
  await expect(edge.getByTestId('topk')).toHaveAttribute('data-top1', 'agrees');
  await expect(page.locator('[data-testid=summary-row][data-verdict=reference]')).toHaveCount(1);

  // Dropped on the page: the same.
  await page.evaluate(async (files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    const zone = document.querySelector('[data-testid=trace-drop]')!;
    for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [
    { name: 'a.exray', b64: readFileSync(refFile).toString('base64') },
    { name: 'b.exray', b64: readFileSync(wasmFile).toString('base64') },
  ]);
  await expect(page.locator('[data-testid=summary-row][data-stream*="a.exray"]')).toHaveAttribute('data-verdict', 'reference');
  await expect(page.locator('[data-testid=summary-row][data-stream*="b.exray"]')).toHaveAttribute('data-verdict', 'ok');

  // A file that is not a trace: said plainly.
  await page.getByTestId('open-exray-input').setInputFiles([{ name: 'broken.exray', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') }]);
  await expect(page.getByTestId('notice')).toContainText('broken.exray');

  // A deflated blob whose CRC-32 does not match (the reader's gzip way checks it in the browser's zlib).
  const damaged = withWrongCrc(readFileSync(wasmFile));
  await page.getByTestId('open-exray-input').setInputFiles([{ name: 'damaged.exray', mimeType: 'application/zip', buffer: damaged.bytes }]);
  await expect(page.getByTestId('notice')).toContainText(`damaged.exray: corrupt file: entry ${damaged.entry} fails its CRC-32 check`);
});

/** The trace with the central directory's CRC-32 of its first deflated blob flipped by one bit. */
function withWrongCrc(file: Buffer): { bytes: Buffer; entry: string } {
  const b = Buffer.from(file);
  let eocd = b.length - 22;
  while (b.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  let p = b.readUInt32LE(eocd + 16);
  for (let i = 0; i < b.readUInt16LE(eocd + 10); i++) {
    const nameLength = b.readUInt16LE(p + 28);
    const name = b.toString('utf8', p + 46, p + 46 + nameLength);
    if (name.startsWith('tensors/') && b.readUInt16LE(p + 10) === 8) {
      b.writeUInt32LE((b.readUInt32LE(p + 16) ^ 1) >>> 0, p + 16);
      return { bytes: b, entry: name };
    }
    p += 46 + nameLength + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
  }
  throw new Error('no deflated blob in the saved trace');
}

test('a results view that cannot be loaded says so when a trace is opened, instead of an empty page', async ({ page }) => {
  // The results chunk (RunResults.tsx) fails to arrive, as on a dropped connection or a stale deploy.
  await page.route(/RunResults-[^/]*\.js$/, (route) => route.abort());
  await openApp(page);
  await page.getByTestId('open-exray-input').setInputFiles(join(ROOT, 'test', 'fixtures', 'v2-fflate-planes.exray'));
  await expect(page.getByTestId('results-load-problem')).toContainText('The results view could not be loaded');
  await expect(page.getByTestId('node-table')).toHaveCount(0);
});

test('traces opened while the page starts come first: its own sample model waits until they are shown, then gives way', async ({ page }) => {
  // The page's opening sample model (emotion) is held back until released below.
  let releaseModel!: () => void;
  const modelHeld = new Promise<void>((resolve) => (releaseModel = resolve));
  await page.route(/\/models\/emotion\/[^/]*\.bin$/, async (route) => {
    await modelHeld;
    await route.continue();
  });
  // So is the opening's replay chunk: the traces are read, but not yet shown.
  let releaseReplay!: () => void;
  const replayHeld = new Promise<void>((resolve) => (releaseReplay = resolve));
  let replayAsked = false;
  await page.route(/\/assets\/trace-files-[^/]*\.js$/, async (route) => {
    replayAsked = true;
    await replayHeld;
    await route.continue();
  });
  await page.goto('./');
  await expect(page.getByTestId('model-loading')).toBeVisible();
  await page.getByTestId('open-exray-input').setInputFiles(join(ROOT, 'test', 'fixtures', 'v2-fflate-planes.exray'));
  await expect.poll(() => replayAsked).toBe(true);
  // The sample model arrives while the traces are being opened: it is not adopted meanwhile.
  const modelArrived = page.waitForResponse(/\/models\/emotion\/[^/]*\.bin$/);
  releaseModel();
  await modelArrived;
  await expect(page.getByTestId('model-loading')).toBeVisible();
  await page.waitForTimeout(500);
  await expect(page.getByTestId('model-name')).toHaveCount(0);
  // The traces are shown; the page's own choice gives way to them.
  releaseReplay();
  await expect(page.getByTestId('node-count')).toHaveText(/^(\d+) of \1$/);
  await expect(page.getByTestId('model-loading')).toHaveCount(0);
  await expect(page.getByTestId('model-name')).toHaveCount(0);
  await expect(page.getByTestId('summary-row')).toHaveCount(1);
});
