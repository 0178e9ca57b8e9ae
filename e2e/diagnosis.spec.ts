/**
 * The phone-GPU effect and its diagnosis in the viewer, on one pair of runs (plain WebGL, then WebGL
 * with half-float textures, against the cpu reference): f16 diverges (nrmse ≥ 100× plain WebGL's) and
 * the first divergent node is named and inspectable; built-in assertions per run; ranked causes per
 * edge run (float16 for half-float, none for plain WebGL; after single-node replays on cpu in a
 * worker); latency guidance. One test because the two runs dominate its time.
 */
import { expect, test } from '@playwright/test';
import { chooseSample, expectRunOk, keepScreenshot, openApp, runAndWait, selectBackends, setOptions, summaryRow, worstNrmse } from './helpers.ts';

test('webgl f16 diverges ≥ 100× more than plain webgl, its first divergent node is named; assertions, causes and latency guidance', async ({ page }, info) => {
  test.setTimeout(360_000);
  await openApp(page);
  // The small emotion CNN: half-float textures break it on this photo as they break MobileNetV2
  // (whose f16 run the phone-link spec makes), at a fraction of SwiftShader's time.
  await chooseSample(page, 'emotion', 'chelsea.png');
  await setOptions(page, { runs: 1, f16: false });
  await selectBackends(page, ['webgl']);
  const plainMs = await runAndWait(page, 200_000);
  await expectRunOk(page, 'webgl');
  const plainErr = await worstNrmse(page, 'webgl');
  expect(plainErr).toBeLessThan(1e-4);
  await setOptions(page, { f16: true });
  const f16Ms = await runAndWait(page, 200_000);
  info.annotations.push({ type: 'timing', description: `cpu + webgl: ${plainMs} ms; webgl f16 (reference reused): ${f16Ms} ms` });

  // Half-float diverges; plain webgl is still there, still ok, next to it.
  const row = summaryRow(page, 'webgl f16');
  await expect(row.getByTestId('verdict')).toHaveText('diverged');
  expect((await worstNrmse(page, 'webgl f16')) / plainErr).toBeGreaterThanOrEqual(100);
  await expect(summaryRow(page, 'webgl').getByTestId('verdict')).toHaveText('ok');

  // The viewer names the first divergent node; clicking it opens the inspector on that node.
  const first = row.getByTestId('first-divergent').locator('button');
  await expect(first).toBeVisible();
  const firstName = (await first.innerText()).split('(')[0]!.trim();
  expect(firstName.length).toBeGreaterThan(0);
  await first.click();
  await expect(page.getByTestId('inspected-node')).toHaveText(firstName);
  await expect(page.getByTestId('heatmap-diff')).toBeVisible();
  // Clicking a point of the error chart inspects that node.
  const plot = page.getByTestId('error-chart-plot').locator('.u-over');
  const box = (await plot.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await expect(page.getByTestId('inspected-node')).not.toHaveText(firstName);
  // The first divergent node is marked in the table.
  await expect(page.locator('[data-testid=node-row].first')).toHaveCount(1);
  // Half-float textures are visible in the environment panel; webgl kernels timed by the GPU timer.
  await expect(page.locator('[data-testid=environment][data-stream="webgl f16"]')).toContainText('half-float textures');
  await expect(page.locator('[data-testid=latency-clock][data-stream="webgl f16"]')).toHaveAttribute('data-clock', 'gpu-timer-query');
  await keepScreenshot(page, info, 'viewer-webgl-f16');

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
