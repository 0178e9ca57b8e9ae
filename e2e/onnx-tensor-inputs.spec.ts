/**
 * An ONNX model whose inputs are not a photo: Silero VAD v5 (audio frame `input`, recurrent `state`,
 * int64 `sr`) in the page. Its inputs are given as tensors: the bundled sample set (real espeak-ng
 * speech, test/fixtures/silero), then picked `.npy` / `.json` files and the card's defaults. Each
 * run on onnxruntime-web wasm is compared with the wasm reference; the input panel shows every
 * tensor, the summary the speech probability, a saved trace holds all three inputs (and shows them
 * when opened again), and bad tensor files are refused with the file named.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { decodeTrace } from '../src/trace/file.ts';
import { keepScreenshot, openApp, runAndWait, selectBackends, setOptions, summaryRow } from './helpers.ts';

const FIXTURES = 'test/fixtures/silero';

function row(page: Page, input: string) {
  return page.locator(`[data-testid=tensor-row][data-input="${input}"]`);
}

async function speechProbability(page: Page, stream: string): Promise<number> {
  const score = summaryRow(page, stream).locator('[data-testid=output-score][data-output="output"]');
  await expect(score).toHaveAttribute('data-value', /\d/);
  return Number(await score.getAttribute('data-value'));
}

test('silero-vad-v5: tensor inputs (sample set, .npy, .json, card defaults) on onnxruntime-web wasm, ok vs the reference', async ({ page }, info) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openApp(page);
  await page.getByTestId('sample-model-select').selectOption('silero-vad-v5');
  await expect(page.getByTestId('model-name')).toHaveText('silero-vad-v5');
  await expect(page.getByTestId('model-info')).toContainText('sr [] int64');

  // No photo for this model: one row per model input, with its declared dtype and shape.
  await expect(page.getByTestId('sample-photo-select')).toHaveCount(0);
  await expect(page.getByTestId('tensor-row')).toHaveCount(3);
  await expect(row(page, 'input').getByTestId('tensor-expected')).toHaveText('float32 [?, ?]');
  await expect(row(page, 'state').getByTestId('tensor-expected')).toHaveText('float32 [2, ?, 128]');
  await expect(row(page, 'sr').getByTestId('tensor-expected')).toHaveText('int64 []');
  // The card's defaults fill state (zeros) and sr (16000); the audio frame is still missing.
  await expect(row(page, 'state')).toHaveAttribute('data-ready', 'yes');
  await expect(row(page, 'sr').getByTestId('tensor-stats')).toHaveText('value 16000');
  await expect(row(page, 'input')).toHaveAttribute('data-ready', 'no');
  await expect(page.getByTestId('run-button')).toBeDisabled();
  await expect(page.getByTestId('run-blocked')).toContainText('give a tensor for input "input"');

  // The bundled sample set: a speech frame with the state carried into it.
  await page.getByTestId('tensor-sample-select').selectOption('speech frame');
  await expect(row(page, 'input').getByTestId('tensor-given')).toHaveAttribute('data-shape', '[1,576]');
  await expect(row(page, 'input').getByTestId('tensor-given')).toContainText('speech_input.npy');
  await expect(row(page, 'input').getByTestId('tensor-plot')).toHaveAttribute('data-kind', 'waveform');
  await expect(row(page, 'state').getByTestId('tensor-given')).toHaveAttribute('data-shape', '[2,1,128]');
  await expect(row(page, 'state').getByTestId('tensor-plot')).toHaveAttribute('data-kind', 'heatmap');
  await expect(row(page, 'sr').getByTestId('tensor-given')).toHaveAttribute('data-dtype', 'int64');
  // The frame's statistics as the page computed them, against the file itself.
  const frame = decodeNpyF32(readFileSync(`${FIXTURES}/speech_input.npy`));
  const stats = await row(page, 'input').getByTestId('tensor-stats').textContent();
  const [min, max] = [/min (\S+)/.exec(stats ?? '')?.[1], /max (\S+)/.exec(stats ?? '')?.[1]].map(Number);
  expect(min).toBeCloseTo(Math.min(...frame), 3);
  expect(max).toBeCloseTo(Math.max(...frame), 3);

  await setOptions(page, { runs: 1 });
  await selectBackends(page, ['wasm']);
  await expect(page.getByTestId('run-button')).toBeEnabled();
  await runAndWait(page, 170_000);

  const ref = summaryRow(page, 'wasm (reference)');
  const edge = summaryRow(page, 'wasm');
  await expect(ref.getByTestId('verdict')).toHaveText('reference');
  await expect(edge.getByTestId('verdict')).toHaveText('ok');
  await expect(edge).toContainText('onnxruntime-web');
  // Main graph: Equal, If (the 16 kHz / 8 kHz networks are its subgraphs; two outputs), two Identity
  // nodes, and the 344 nodes inside the If's branches (If_0/then/…, nested Ifs included): one table
  // row per node output.
  await expect(page.locator('[data-testid=progress-row][data-stream="wasm"]')).toContainText('348 nodes');
  await expect(page.getByTestId('node-count')).toHaveText('365 of 365');
  const rows = page.getByTestId('node-row');
  for (const [name, op] of [['Equal_0', 'Equal'], ['Introduce_0_id0', 'Identity'], ['If_0/then/If_0_then_branch__Inline_0__/decoder/If_1/then/If_0_then_branch__Inline_0__/decoder/rnn/LSTM', 'LSTM']] as const) {
    await page.getByTestId('node-filter').fill(name);
    await expect(rows.filter({ hasText: name }).first()).toContainText(op);
  }
  // A node of the branch that did not run (the 8 kHz network): its row opens with the trace's note.
  await page.getByTestId('node-filter').fill('If_0/else/');
  await rows.first().click();
  await expect(page.getByTestId('node-note')).toContainText(/did not run on this input: If_0 took its then branch/);
  await page.getByTestId('node-filter').fill('');
  const speechRef = await speechProbability(page, 'wasm (reference)');
  const speechEdge = await speechProbability(page, 'wasm');
  expect(speechEdge).toBeGreaterThan(0.9);
  expect(Math.abs(speechEdge - speechRef)).toBeLessThan(1e-5);
  await keepScreenshot(page, info, 'vad-speech');

  // The saved trace records every named input, exactly as given.
  const [download] = await Promise.all([page.waitForEvent('download'), edge.getByTestId('save-exray').click()]);
  const file = info.outputPath('vad-wasm.exray');
  await download.saveAs(file);
  const trace = decodeTrace(new Uint8Array(readFileSync(file)), file);
  expect(trace.header.input.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
    ['input', 'float32', [1, 576]],
    ['state', 'float32', [2, 1, 128]],
    ['sr', 'int64', []],
  ]);
  const recorded = trace.blobs.get(trace.header.input.tensors[0]!.blob!.id)!;
  expect(Array.from(recorded)).toEqual(frame);
  expect(Array.from(trace.blobs.get(trace.header.input.tensors[2]!.blob!.id)!)).toEqual([16000]);

  // Picked files: a silent frame (.npy), sr as JSON, and the card's zero state: "not speech".
  await row(page, 'input').getByTestId('tensor-file-input-input').setInputFiles(`${FIXTURES}/silence_input.npy`);
  await row(page, 'sr').getByTestId('tensor-file-input-sr').setInputFiles(`${FIXTURES}/sr.json`);
  await row(page, 'state').getByTestId('tensor-default-state').click();
  await expect(row(page, 'input').getByTestId('tensor-given')).toContainText('silence_input.npy');
  await expect(row(page, 'sr').getByTestId('tensor-given')).toContainText('sr.json');
  await expect(row(page, 'sr').getByTestId('tensor-stats')).toHaveText('value 16000');
  await expect(row(page, 'state').getByTestId('tensor-stats')).toContainText('min 0 · max 0 · mean 0');
  // New inputs drop the runs made with the old ones.
  await expect(page.getByTestId('summary-row')).toHaveCount(0);
  await runAndWait(page, 170_000);
  await expect(summaryRow(page, 'wasm').getByTestId('verdict')).toHaveText('ok');
  expect(await speechProbability(page, 'wasm')).toBeLessThan(0.1);
  await expect(page.getByTestId('input-panel').getByTestId('tensor-given')).toHaveCount(3);

  // Bad tensor files: refused with the file and the problem named; nothing crashes, the run waits.
  await row(page, 'state').getByTestId('tensor-file-input-state').setInputFiles(`${FIXTURES}/speech_input.npy`);
  await expect(row(page, 'state').getByTestId('tensor-error-state')).toHaveText(
    'speech_input.npy: input "state": shape [1,576] has rank 2, model input "state" is [2,?,128] (rank 3)',
  );
  await expect(row(page, 'state')).toHaveAttribute('data-ready', 'no');
  await expect(page.getByTestId('run-button')).toBeDisabled();
  await expect(page.getByTestId('run-blocked')).toContainText('speech_input.npy');

  const badJson = info.outputPath('sr_broken.json');
  writeFileSync(badJson, '{"shape": [], "dtype": "int64", "data": [16000]');
  await row(page, 'sr').getByTestId('tensor-file-input-sr').setInputFiles(badJson);
  await expect(row(page, 'sr').getByTestId('tensor-error-sr')).toContainText('sr_broken.json: not valid JSON');

  const floatSr = info.outputPath('sr_float.json');
  writeFileSync(floatSr, JSON.stringify({ shape: [], dtype: 'float32', data: [16000] }));
  await row(page, 'sr').getByTestId('tensor-file-input-sr').setInputFiles(floatSr);
  await expect(row(page, 'sr').getByTestId('tensor-error-sr')).toHaveText('sr_float.json: input "sr": dtype float32, model input "sr" expects int64');

  const notNpy = info.outputPath('frame.npy');
  writeFileSync(notNpy, 'RIFF....WAVEfmt ');
  await row(page, 'input').getByTestId('tensor-file-input-input').setInputFiles(notNpy);
  await expect(row(page, 'input').getByTestId('tensor-error-input')).toHaveText('frame.npy: not a .npy file (bad magic)');

  // Several files at once are assigned by name: `state.npy` fixes its row; a file named after no input is refused.
  const named = info.outputPath('state.npy');
  copyFileSync(`${FIXTURES}/speech_state.npy`, named);
  const unnamed = info.outputPath('frame.json');
  writeFileSync(unnamed, JSON.stringify({ shape: [1, 576], data: new Array(576).fill(0) }));
  await page.getByTestId('tensor-files-input').setInputFiles([named, unnamed]);
  await expect(row(page, 'state')).toHaveAttribute('data-ready', 'yes');
  await expect(row(page, 'state').getByTestId('tensor-error-state')).toHaveCount(0);
  await expect(row(page, 'state').getByTestId('tensor-given')).toContainText('state.npy');
  await expect(page.getByTestId('tensor-files-error')).toContainText('frame.json: does not say which input it feeds');

  // The saved trace opened again: the input panel shows the three tensors it recorded.
  await page.getByTestId('open-exray-input').setInputFiles(file);
  await expect(summaryRow(page, 'wasm · vad-wasm.exray')).toBeVisible();
  const recordedRow = (name: string) => page.locator(`[data-testid=recorded-input][data-input="${name}"]`);
  await expect(page.getByTestId('recorded-inputs')).toContainText('wasm · vad-wasm.exray');
  await expect(page.getByTestId('recorded-input')).toHaveCount(3);
  await expect(recordedRow('input').getByTestId('tensor-given')).toHaveAttribute('data-shape', '[1,576]');
  await expect(recordedRow('input').getByTestId('tensor-plot')).toHaveAttribute('data-kind', 'waveform');
  await expect(recordedRow('state').getByTestId('tensor-plot')).toHaveAttribute('data-kind', 'heatmap');
  await expect(recordedRow('sr').getByTestId('tensor-stats')).toHaveText('value 16000');
  await keepScreenshot(page, info, 'vad-errors');
  // Bad files never crash the page.
  expect(pageErrors).toEqual([]);
});

/** float32 values of a little-endian `<f4` .npy (v1 header), for the expectations above. */
function decodeNpyF32(b: Buffer): number[] {
  const headerLen = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + headerLen);
  expect(header).toContain("'descr': '<f4'");
  const data = b.subarray(10 + headerLen);
  return Array.from(new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)));
}
