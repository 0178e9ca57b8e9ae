/**
 * The two servers of the agent e2e specs (e2e/agent*.spec.ts): `exray serve` (startServe: the
 * webServer's build, a temporary data dir, 127.0.0.2 as its "LAN") and the example apps' own server
 * (examples/classifier/serve.mjs: the classifier at /, the VAD app at /vad/) on another loopback port,
 * i.e. another site. Loopback only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { expect, test, type Page } from '@playwright/test';
import { killServe, startServe } from './serve.ts';
// @ts-expect-error: plain JS module of the example app (not part of exray's TypeScript)
import { startExampleServer } from '../../examples/classifier/serve.mjs';

/** What startExampleServer resolves to. */
export interface ExampleServer {
  port: number;
  /** The app's root URL, ending in '/'. */
  url: string;
  close(): Promise<void>;
}

export interface AgentServers {
  /** The example app's server (throws before the spec's beforeAll ran). */
  readonly app: ExampleServer;
  /** Kills `exray serve` (SIGKILL: gone, as in a crash) before the spec ends; afterAll then skips it. */
  killServe(): Promise<void>;
}

/**
 * Starts both servers before the spec's tests (exray serve on `port`, resume grace 30 s; the app on any
 * free port) and stops both after them, removing the data dir. Call once, at the top of a spec.
 */
export function agentServers(port: number, dataDirPrefix: string): AgentServers {
  let serve: ChildProcess | null = null;
  let app: ExampleServer | null = null;
  let dataDir = '';

  test.beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), dataDirPrefix));
    serve = await startServe(port, dataDir, 30);
    app = (await startExampleServer({ port: 0, host: '127.0.0.1' })) as ExampleServer;
  });

  test.afterAll(async () => {
    await killServe(serve);
    serve = null;
    await app?.close();
    app = null;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  return {
    get app(): ExampleServer {
      if (!app) throw new Error('the example app is not running (agentServers: beforeAll has not run, or afterAll has)');
      return app;
    },
    async killServe(): Promise<void> {
      await killServe(serve);
      serve = null;
    },
  };
}

/** The agent line's script URL on loopback (`desktop`: exray serve's loopback URL, ending in '/'), from /api/agent. */
export async function agentScriptUrl(desktop: string): Promise<{ url: string; line: string }> {
  const body = (await (await fetch(`${desktop}api/agent`)).json()) as { scriptUrls: string[]; line: string };
  const url = body.scriptUrls.find((u) => u.startsWith(desktop));
  expect(url, `a script URL on ${desktop} among ${body.scriptUrls.join(', ')}`).toBeDefined();
  return { url: url!, line: body.line };
}

/** The agent's counters in the app's page (`window.exray`), once its pending captures are shipped. */
export function agentCounters(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const a = (globalThis as unknown as { exray: { counters: Record<string, number>; idle(): Promise<void> } }).exray;
    await a.idle();
    return a.counters;
  });
}
