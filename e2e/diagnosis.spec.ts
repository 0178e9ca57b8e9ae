/**
 * Diagnosis in the viewer (issue 5): built-in assertions per run, ranked causes per edge run vs the
 * cpu reference (float16 for WebGL with half-float textures, none for plain WebGL; after single-node
 * replays on cpu in a worker), latency guidance.
 */
import { expect, test } from '@playwright/test';
import { chooseSample, expectRunOk, keepScreenshot, openApp, runAndWait, selectBackends, setOptions } from './helpers.ts';

test('assertions, causes and latency guidance for webgl and webgl f16', async ({ page }, info) => {
  test.setTimeout(300_000);
  await openApp(page);
  await chooseSample(page, 'nsfw-mobilenet-v2', 'chelsea.png');
  await setOptions(page, { runs: 1, f16: false });
  await selectBackends(page, ['webgl']);
  await runAndWait(page, 200_000);
  await expectRunOk(page, 'webgl');
  await setOptions(page, { f16: true });
  await runAndWait(page, 200_000);

  // Assertions: every built-in ok (or not applicable without the photo search) for the webgl run.
  const panel = page.getByTestId('assertions-panel');
  await expect(panel).toBeVisible();
  const webgl = panel.locator('[data-testid=assertions-run][data-stream="webgl"]');
  await expect(webgl).toHaveAttribute('data-all-ok', 'true');
  await expect(webgl).toHaveAttribute('data-failed', '0');
  for (const id of ['input-shape', 'input-dtype', 'input-range', 'finite', 'output-plausible']) {
    await expect(webgl.locator(`[data-testid=assertion][data-id="${id}"]`)).toHaveAttribute('data-ok', 'ok');
  }
  await expect(webgl.locator('[data-testid=assertion][data-ok=failed]')).toHaveCount(0);
  await expect(panel.locator('[data-testid=assertions-run]')).toHaveCount(3); // reference, webgl, webgl f16

  // Causes: float16 first for the half-float run, none for plain webgl.
  const diag = page.getByTestId('diagnosis-panel');
  const half = diag.locator('[data-testid=diagnosis-run][data-stream="webgl f16"]');
  const plain = diag.locator('[data-testid=diagnosis-run][data-stream="webgl"]');
  // Single-node replays of the suspicious nodes on the cpu reference, in a worker (tensors capture):
  // wait for them, then the causes are final.
  for (const run of [half, plain]) await expect(run.getByTestId('replay-split')).toHaveAttribute('data-status', /done|none/, { timeout: 120_000 });
  await expect(half.getByTestId('replay-split')).toHaveAttribute('data-status', 'done');
  expect(Number(await half.getByTestId('replay-split').getAttribute('data-replayed'))).toBeGreaterThan(0);
  await expect(half).toHaveAttribute('data-top-cause', 'float16');
  await expect(half.locator('[data-testid=cause][data-code=float16]')).toContainText('half-float backend');
  await expect(half.getByTestId('half-evidence')).toHaveAttribute('data-likely', 'true');
  await expect(plain).toHaveAttribute('data-top-cause', 'none');
  await expect(plain.locator('[data-testid=cause]')).toHaveCount(1);

  // The float16 cause names a node; clicking it inspects that node.
  const node = half.locator('[data-testid=cause][data-code=float16]').getByTestId('cause-node');
  await expect(node).toBeVisible();
  const name = (await node.innerText()).trim();
  await node.click();
  await expect(page.getByTestId('inspected-node')).toHaveText(name);

  // Latency guidance: the slowest nodes per backend, webgl included.
  const lat = page.getByTestId('latency-guidance');
  await expect(lat).toBeVisible();
  const slow = lat.locator('[data-testid=slowest-nodes][data-backend="webgl"] [data-testid=slow-node]');
  expect(await slow.count()).toBeGreaterThanOrEqual(3);
  await expect(lat.locator('[data-testid=latency-backend]')).toHaveCount(3);
  await keepScreenshot(page, info, 'viewer-diagnosis');
});
