/**
 * A model from the user's own files: file picker (files and a folder), a synthetic drop of real Files,
 * and the errors a user makes (missing shard, wrong shard, not a model, broken JSON), each naming
 * the file at fault.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { expectRunOk, openApp, runAndWait, selectBackends, setOptions } from './helpers.ts';

const dir = (name: string): string => path.resolve('models', name);
const file = (model: string, f: string, as = f): { name: string; mimeType: string; buffer: Buffer } => ({
  name: as,
  mimeType: f.endsWith('.json') ? 'application/json' : 'application/octet-stream',
  buffer: readFileSync(path.join(dir(model), f)),
});

async function expectProblem(page: Page, fileName: string, text: RegExp): Promise<void> {
  const errors = page.getByTestId('model-errors');
  await expect(errors).toBeVisible();
  await expect(errors).toContainText(fileName);
  await expect(errors).toContainText(text);
}

test('model.json + shard + card from the file picker run and agree on wasm', async ({ page }) => {
  await openApp(page);
  // Any order: the shard first.
  await page.getByTestId('model-file-input').setInputFiles([file('emotion', 'group1-shard1of1.bin'), file('emotion', 'exray.json'), file('emotion', 'model.json')]);
  await expect(page.getByTestId('model-name')).toHaveText('emotion');
  await expect(page.getByTestId('preprocess-form')).toContainText('from the model card');
  await expect(page.getByTestId('preprocess-summary')).toContainText('64×64');
  await expect(page.getByTestId('preprocess-summary')).toContainText('grayscale');
  await page.getByTestId('sample-photo-select').selectOption('astronaut.png');
  await expect(page.getByTestId('input-preview')).toBeVisible();
  await setOptions(page, { runs: 1 });
  await selectBackends(page, ['cpu', 'wasm']);
  await runAndWait(page);
  await expectRunOk(page, 'wasm');
});

test('a model folder from the folder picker; without a card the pre-processing form appears', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('model-folder-input').setInputFiles(dir('blazeface'));
  await expect(page.getByTestId('model-name')).toHaveText('blazeface');
  // The folder holds exray.json too: its pre-processing is used.
  await expect(page.getByTestId('preprocess-summary')).toContainText('256×256');
  // model.json + shard without the card: a form with values guessed from the input shape.
  await page.getByTestId('model-file-input').setInputFiles([file('blazeface', 'model.json'), file('blazeface', 'group1-shard1of1.bin')]);
  await expect(page.getByTestId('preprocess-form')).toHaveAttribute('open', '');
  await expect(page.getByTestId('preprocess-form')).toContainText('no model card');
  await expect(page.getByTestId('pp-width')).toHaveValue('256');
  await page.getByTestId('pp-scale').fill('0.00784313725490196');
  await page.getByTestId('pp-mean').fill('1, 1, 1');
  await page.getByTestId('pp-apply').click();
  await expect(page.getByTestId('preprocess-summary')).toContainText('− [1, 1, 1]');
});

test('a synthetic drop of real Files (two shards, shuffled) loads and runs a graph model', async ({ page }) => {
  await openApp(page);
  await page.evaluate(async () => {
    const base = 'models/nsfw-mobilenet-v2-mid/';
    const names = ['group1-shard2of2.bin', 'exray.json', 'model.json', 'group1-shard1of2.bin'];
    const dt = new DataTransfer();
    for (const n of names) {
      const blob = await (await fetch(base + n)).blob();
      dt.items.add(new File([blob], n, { type: n.endsWith('.json') ? 'application/json' : 'application/octet-stream' }));
    }
    const zone = document.querySelector('[data-testid=model-drop]')!;
    for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.getByTestId('model-name')).toHaveText('nsfw-mobilenet-v2-mid');
  await expect(page.getByTestId('model-info')).toContainText('2 shards');
  // A photo dropped anywhere on the page (outside the drop zones) becomes the input.
  await page.evaluate(async () => {
    const dt = new DataTransfer();
    dt.items.add(new File([await (await fetch('samples/flower.jpg')).blob()], 'flower.jpg', { type: 'image/jpeg' }));
    const target = document.querySelector('[data-testid=intro]')!;
    for (const type of ['dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.getByTestId('photo')).toHaveAttribute('alt', 'flower.jpg');
  await expect(page.getByTestId('input-preview')).toBeVisible();
  await setOptions(page, { runs: 1 });
  await selectBackends(page, ['cpu', 'wasm']);
  await runAndWait(page);
  await expectRunOk(page, 'wasm');
});

test('clear errors naming the file: missing shard, wrong shard size, not a model, bad JSON', async ({ page }) => {
  await openApp(page);
  const input = page.getByTestId('model-file-input');

  await input.setInputFiles([file('emotion', 'model.json')]);
  await expectProblem(page, 'group1-shard1of1.bin', /weight shard listed in model\.json weightsManifest\[0\] is missing/);

  const shard = readFileSync(path.join(dir('emotion'), 'group1-shard1of1.bin'));
  await input.setInputFiles([file('emotion', 'model.json'), { name: 'group1-shard1of1.bin', mimeType: 'application/octet-stream', buffer: shard.subarray(0, shard.length - 1000) }]);
  await expectProblem(page, 'group1-shard1of1.bin', /truncated: shard size does not match the manifest/);

  // The second shard of a two-shard model, given in place of the first: sizes disagree with the manifest.
  await input.setInputFiles([file('nsfw-mobilenet-v2-mid', 'model.json'), file('nsfw-mobilenet-v2-mid', 'group1-shard2of2.bin'), file('nsfw-mobilenet-v2-mid', 'group1-shard2of2.bin', 'group1-shard1of2.bin')]);
  await expectProblem(page, 'group1-shard1of2.bin', /shard size does not match the manifest/);

  await input.setInputFiles([{ name: 'weights.json', mimeType: 'application/json', buffer: Buffer.from('{"name": "not a model"}') }]);
  await expectProblem(page, 'weights.json', /is not a TF\.js model/);

  await input.setInputFiles([{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') }]);
  await expectProblem(page, 'notes.txt', /no TF\.js model\.json among these files/);

  await input.setInputFiles([{ name: 'model.json', mimeType: 'application/json', buffer: readFileSync(path.join(dir('emotion'), 'model.json')).subarray(0, 500) }]);
  await expectProblem(page, 'model.json', /is not valid JSON/);

  await input.setInputFiles([file('emotion', 'model.json'), file('emotion', 'group1-shard1of1.bin'), { name: 'exray.json', mimeType: 'application/json', buffer: Buffer.from('{"cardVersion": 1, "name": "Emotion!"}') }]);
  await expectProblem(page, 'exray.json', /name/);
  await expect(page.getByTestId('model-info')).toHaveCount(0);
});
