/**
 * `exray/playwright`: exray's device farm as a fixture of an existing @playwright/test suite.
 *
 * ```ts
 * import { test, expect } from 'exray/playwright';
 * test('emotion on wasm', async ({ page, exray }) => {
 *   const trace = await exray.trace(page, { model: 'models/emotion', input: 'public/samples/chelsea.png', backend: 'wasm' });
 *   expect(trace).toMatchReference({ tolerance: 0.02 });
 * });
 * ```
 *
 * The suite keeps its own browser, devices and farm connection: the model runs on a new page of the
 * test's context. What a worker shares (the page server, the Node references) lives in one
 * ExrayWorker per Playwright worker (playwright-trace.ts); the verdict is the farm's
 * (playwright-match.ts).
 */
import {
  expect as baseExpect,
  test as base,
  type Expect,
  type ExpectMatcherState,
  type MatcherReturnType,
  type Page,
  type PlaywrightTestArgs,
  type PlaywrightTestOptions,
  type PlaywrightWorkerArgs,
  type PlaywrightWorkerOptions,
  type TestType,
} from '@playwright/test';
import type { FarmBackend } from './config.ts';
import { checkMatchOptions, isExrayTrace, judgeReference, type MatchReferenceOptions } from './playwright-match.ts';
import { ExrayWorker, PACKAGE_ROOT, type ExrayDiagnosis, type ExrayReferenceBackend, type ExrayTrace, type ExrayTraceOptions } from './playwright-trace.ts';

export type { ExrayDiagnosis, ExrayReferenceBackend, ExrayTrace, ExrayTraceOptions, MatchReferenceOptions };
export type ExrayBackend = FarmBackend;

/** The per-test helper (the `exray` fixture). */
export interface Exray {
  /**
   * Run the model on `options.input` on a new page of `page.context()` (the page itself is not
   * navigated), compare it with the Node reference and attach both `.exray` files to the report. A
   * backend the runtime or the device lacks skips the test with the reason.
   */
  trace(page: Page, options: ExrayTraceOptions): Promise<ExrayTrace>;
}

export interface ExrayTestFixtures {
  exray: Exray;
}

export interface ExrayWorkerOptions {
  /**
   * The exray checkout or package whose built page (`dist/runner.html`, `npx vite build`) is served;
   * default: the exray this module belongs to. Built there first when missing.
   */
  exrayRoot: string;
}

interface ExrayWorkerFixtures extends ExrayWorkerOptions {
  _exrayWorker: ExrayWorker;
}

// Spelled out so the published .d.ts names @playwright/test (the peer dependency), not its internals.
export const test: TestType<PlaywrightTestArgs & PlaywrightTestOptions & ExrayTestFixtures, PlaywrightWorkerArgs & PlaywrightWorkerOptions & ExrayWorkerFixtures> = base.extend<ExrayTestFixtures, ExrayWorkerFixtures>({
  exrayRoot: [PACKAGE_ROOT, { scope: 'worker', option: true }],
  _exrayWorker: [
    async ({ exrayRoot }, use) => {
      const worker = new ExrayWorker(exrayRoot, (line) => process.stderr.write(`${line}\n`));
      try {
        await use(worker);
      } finally {
        await worker.close();
      }
    },
    { scope: 'worker', box: true },
  ],
  exray: async ({ _exrayWorker }, use, testInfo) => {
    await use({
      trace: (page, options) =>
        _exrayWorker.trace(page, options, {
          skip: (reason) => {
            testInfo.skip(true, reason);
            // testInfo.skip throws inside a test; this only makes the type `never` honest elsewhere.
            throw new Error(`skipped: ${reason}`);
          },
          attach: async (name, path) => {
            await testInfo.attach(name, { path, contentType: 'application/octet-stream' });
            return testInfo.attachments.findLast((a) => a.name === name)?.path ?? path;
          },
        }),
    });
  },
});

/**
 * Synchronous on purpose: everything it needs (the diagnosis included) was computed by
 * `exray.trace`, so `expect(trace).toMatchReference()` fails the test even when it is not awaited.
 */
function toMatchReference(this: ExpectMatcherState, received: ExrayTrace, options?: MatchReferenceOptions): MatcherReturnType {
  const hint = this.utils.matcherHint('toMatchReference', 'trace', '', { isNot: this.isNot });
  if (!isExrayTrace(received)) {
    // Fails with and without .not: there is nothing to judge.
    return { pass: this.isNot, name: 'toMatchReference', message: () => `${hint}\n\nexpected what exray.trace() returns, received ${this.utils.printReceived(received)}` };
  }
  const j = judgeReference(received, checkMatchOptions(options));
  return {
    pass: j.pass,
    name: 'toMatchReference',
    message: () => `${hint}\n\n${j.pass ? j.match() : j.mismatch()}`,
    actual: j.accuracy.outputNrmse.max,
    expected: j.comparison.tolerance.global.nrmse,
  };
}

export const expect: Expect<{ toMatchReference: typeof toMatchReference }> = baseExpect.extend({ toMatchReference });

declare global {
  // Playwright's own extension point for matcher types (types/test.d.ts): augmenting it is what makes
  // `expect(trace).toMatchReference()` typecheck for the suite's other `expect` imports too.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace PlaywrightTest {
    interface Matchers<R, T = unknown> {
      /**
       * The trace's final outputs are within `tolerance` of the reference (and its top-1 class agrees);
       * a failure names the first divergent node, the output nrmse and the diagnosed cause. Only for
       * what `exray.trace` returns.
       */
      toMatchReference: [T] extends [ExrayTrace] ? (options?: MatchReferenceOptions) => R : never;
    }
  }
}
