/**
 * The phone-GPU effect: WebGL with half-float textures makes a real model diverge from the cpu
 * reference (nrmse ≥ 100× plain WebGL's), and the viewer names the first divergent node.
 */
import { expect, test } from '@playwright/test';
import { chooseSample, expectRunOk, keepScreenshot, openApp, runAndWait, selectBackends, setOptions, summaryRow, worstNrmse } from './helpers.ts';

test('webgl f16 diverges ≥ 100× more than plain webgl and the first divergent node is named', async ({ page }, info) => {
  test.setTimeout(300_000);
  await openApp(page);
  await chooseSample(page, 'nsfw-mobilenet-v2', 'chelsea.png');
  await setOptions(page, { runs: 1, f16: false });
  await selectBackends(page, ['webgl']);
  const plainMs = await runAndWait(page, 200_000);
  await expectRunOk(page, 'webgl');
  const plain = await worstNrmse(page, 'webgl');
  expect(plain).toBeLessThan(1e-4);

  await setOptions(page, { f16: true });
  const f16Ms = await runAndWait(page, 200_000);
  info.annotations.push({ type: 'timing', description: `cpu + webgl: ${plainMs} ms; webgl f16 (reference reused): ${f16Ms} ms` });
  const row = summaryRow(page, 'webgl f16');
  await expect(row.getByTestId('verdict')).toHaveText('diverged');
  const half = await worstNrmse(page, 'webgl f16');
  expect(half / plain).toBeGreaterThanOrEqual(100);
  // Plain webgl is still there, still ok, next to the f16 run.
  await expect(summaryRow(page, 'webgl').getByTestId('verdict')).toHaveText('ok');

  // The viewer names the first divergent node; clicking it opens the inspector on that node.
  const first = row.getByTestId('first-divergent').locator('button');
  await expect(first).toBeVisible();
  const name = (await first.innerText()).split('(')[0]!.trim();
  expect(name.length).toBeGreaterThan(0);
  await first.click();
  await expect(page.getByTestId('inspected-node')).toHaveText(name);
  await expect(page.getByTestId('heatmap-diff')).toBeVisible();
  // Clicking a point of the error chart inspects that node.
  const plot = page.getByTestId('error-chart-plot').locator('.u-over');
  const box = (await plot.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await expect(page.getByTestId('inspected-node')).not.toHaveText(name);
  // The first divergent node is marked in the table.
  await expect(page.locator('[data-testid=node-row].first')).toHaveCount(1);
  // Half-float textures are visible in the environment panel.
  await expect(page.locator('[data-testid=environment][data-stream="webgl f16"]')).toContainText('half-float textures');
  await expect(page.locator('[data-testid=latency-clock][data-stream="webgl f16"]')).toHaveAttribute('data-clock', 'gpu-timer-query');
  await keepScreenshot(page, info, 'viewer-webgl-f16');
});
