/**
 * Issue 14 item 4 on the page: a model whose output is not class scores (MoveNet Lightning, 17 body
 * keypoints) gets the measure that fits its card's kind in the summary — keypoint distances, in input
 * pixels — never "top-1". One timed run on cpu (the reference) and wasm.
 */
import { expect, test } from '@playwright/test';

const LINK = './?model=movenet-lightning&photo=astronaut.png&backends=cpu,wasm&timed=1&run=1';

test('movenet keypoints: the summary says keypoint distances from the card, not top-1', async ({ page }) => {
  await page.goto(LINK);
  const wasm = page.locator('[data-testid=summary-row][data-stream=wasm]');
  await expect(wasm.getByTestId('verdict')).toHaveText('ok', { timeout: 120_000 });
  const measure = wasm.getByTestId('output-measure');
  await expect(measure).toHaveCount(1);
  await expect(measure).toHaveAttribute('data-kind', 'keypoints');
  await expect(measure).toHaveAttribute('data-source', 'given');
  await expect(measure).toHaveText(/^keypoints: 17 points, mean distance \S+, max \S+ \(#\d+\) \(\S+ \/ \S+ px\)$/);
  await expect(wasm.getByTestId('topk')).toHaveCount(0);
  await expect(wasm.getByTestId('agreement')).not.toContainText('top-1');
});
