/**
 * The page's backend probe (src/viewer/worker/probe.ts) asks again on the main thread only for what
 * the utility worker could not use: a WebGPU adapter or a WebGL context found there is not requested
 * a second time (each costs the GPU process a long task). The probing itself runs in Chromium in
 * e2e/backend-availability.spec.ts; here the adapter request is counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { probeBackends } from '../src/viewer/worker/probe.ts';

const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
let requests = 0;

function withGpu(): void {
  requests = 0;
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: { gpu: { requestAdapter: async () => (requests++, { info: { vendor: 'test', architecture: 'swiftshader' } }) } },
  });
}

afterEach(() => {
  if (had) Object.defineProperty(globalThis, 'navigator', had);
  else delete (globalThis as { navigator?: unknown }).navigator;
});

describe('probeBackends', () => {
  it('requests a WebGPU adapter, unless the worker has found one', async () => {
    withGpu();
    const all = await probeBackends('main');
    expect(requests).toBe(1);
    expect(all.find((b) => b.name === 'webgpu')).toMatchObject({ available: true, where: 'main' });

    withGpu();
    const rest = await probeBackends('main', new Set(['webgpu', 'webgl']));
    expect(requests).toBe(0);
    expect(rest.find((b) => b.name === 'webgpu')).toMatchObject({ available: false, detail: 'not probed here (found available in the worker)' });
    expect(rest.find((b) => b.name === 'webgl')).toMatchObject({ available: false, detail: 'not probed here (found available in the worker)' });
    // The rest is probed as before.
    expect(rest.map((b) => b.name)).toEqual(all.map((b) => b.name));
    expect(rest.find((b) => b.name === 'wasm')).toEqual(all.find((b) => b.name === 'wasm'));
  });
});
