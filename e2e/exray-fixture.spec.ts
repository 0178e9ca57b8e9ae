/**
 * `exray/playwright` from our own suite, as a team would use it: the fixture runs emotion (a small
 * TF.js model) on chelsea.png on a new page of the test's context and judges it against the Node cpu
 * reference. wasm matches; half-float WebGL does not, and the failure names the cause (float16).
 * Nothing mocked; the two tests share the worker's page server and the cached reference.
 */
import { readFileSync } from 'node:fs';
import { test, expect } from '../src/farm/playwright.ts';
import { decodeTrace } from '../src/trace/file.ts';

const MODEL = 'models/emotion';
const PHOTO = 'public/samples/chelsea.png';

test('emotion on wasm matches its cpu reference; both .exray files are attached to the report', async ({ page, exray }, testInfo) => {
  const trace = await exray.trace(page, { model: MODEL, input: PHOTO, backend: 'wasm' });
  expect(trace).toMatchReference({ tolerance: 0.02 });
  expect(trace).toMatchReference();
  expect(trace.comparison.outputs.top1Equal).toBe(true);

  const attached = testInfo.attachments.filter((a) => a.name.endsWith('.exray'));
  expect(attached.map((a) => [a.name, a.contentType])).toEqual([
    ['emotion-chelsea.png-wasm.exray', 'application/octet-stream'],
    ['emotion-chelsea.png-wasm-reference-cpu.exray', 'application/octet-stream'],
  ]);
  expect(attached.map((a) => a.path)).toEqual([trace.files.edge, trace.files.reference]);
  const [edge, ref] = [trace.files.edge, trace.files.reference].map((f) => decodeTrace(new Uint8Array(readFileSync(f)), f));
  expect(edge!.header.environment.userAgent).toMatch(/Chrome/);
  expect(ref!.header.id).toBe(trace.reference.header.id);
  // The run had a page of its own: the test's page was never navigated.
  expect(page.url()).toBe('about:blank');
  expect(page.context().pages()).toEqual([page]);
});

test('emotion on half-float WebGL does not match, and the failure names the cause float16', async ({ page, exray }) => {
  const trace = await exray.trace(page, { model: MODEL, input: PHOTO, backend: 'webgl-f16' });
  expect(trace).not.toMatchReference();

  let message = '';
  try {
    expect(trace).toMatchReference();
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
  }
  expect(message).toMatch(/first divergent node: \S+/);
  expect(message).toMatch(/output nrmse \d/);
  expect(message).toContain('cause: float16');
  expect(trace.diagnosis?.cause).toBe('float16');
  expect(trace.edge.header.environment.floatPrecision).toBe(16);
});
