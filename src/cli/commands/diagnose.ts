/**
 * `exray diagnose <edge.exray> --image <photo> [--model <dir>]`: prints the diagnosis of an edge trace.
 * The runner itself (reference capture, comparison, replays, causes) is src/reference/diagnose-node.ts,
 * shared with `exray serve`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatDiagnosis, isAssertion, type Assertion } from '../../diagnose/index.ts';
import { ExrayInputError } from '../../errors.ts';
import { runDiagnosis } from '../../reference/diagnose-node.ts';
import type { NodeBackend } from '../../reference/tfjs-backend.ts';

export { runDiagnosis, weightStorage, type DiagnoseRun, type DiagnoseRunOptions } from '../../reference/diagnose-node.ts';

/**
 * A user module. A TypeScript one needs tsx: the sources run under it, the built CLI (dist-cli/) does not,
 * and Node 20 cannot import `.ts` by itself; then it is loaded through tsx's tsImport (tsx is a dependency).
 */
async function importModule(path: string): Promise<unknown> {
  const url = pathToFileURL(path).href;
  try {
    return await import(url);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?tsx?$/.test(path)) throw e;
    const { tsImport } = await import('tsx/esm/api');
    const mod = (await tsImport(url, import.meta.url)) as { default?: unknown };
    // Outside a "type": "module" package tsx compiles the file as CommonJS: its exports are the default.
    const cjs = mod.default as { __esModule?: boolean } | undefined;
    return Object.keys(mod).length === 1 && cjs && typeof cjs === 'object' && cjs.__esModule ? cjs : mod;
  }
}

/** Load user assertions from modules: the default export and every named export that is an assertion (or a list of them). */
export async function loadAssertions(files: readonly string[]): Promise<Assertion[]> {
  const out: Assertion[] = [];
  for (const f of files) {
    const path = resolve(f);
    if (!existsSync(path)) throw new ExrayInputError(f, 'assertions file not found');
    let mod: Record<string, unknown>;
    try {
      mod = (await importModule(path)) as Record<string, unknown>;
    } catch (e) {
      throw new ExrayInputError(f, `cannot load assertions: ${e instanceof Error ? e.message : String(e)}`);
    }
    const found: Assertion[] = [];
    for (const v of Object.values(mod)) {
      for (const x of Array.isArray(v) ? v : [v]) if (isAssertion(x) && !found.includes(x)) found.push(x);
    }
    if (found.length === 0) throw new ExrayInputError(f, 'exports no assertion (export default defineAssertion({ id, description, check }))');
    out.push(...found);
  }
  return out;
}

export interface DiagnoseCommandOptions {
  image?: string;
  model?: string;
  edgeModel?: string;
  backend: NodeBackend;
  replay?: number;
  json?: boolean;
  failOnAssert?: boolean;
  assertions?: string[];
}

export async function diagnoseCommand(edgeFile: string, opts: DiagnoseCommandOptions): Promise<void> {
  const assertions = opts.assertions?.length ? await loadAssertions(opts.assertions) : [];
  const run = await runDiagnosis({
    edge: edgeFile,
    ...(opts.image ? { image: opts.image } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    ...(opts.edgeModel ? { edgeModel: opts.edgeModel } : {}),
    backend: opts.backend,
    ...(opts.replay !== undefined ? { maxReplay: opts.replay } : {}),
    assertions,
  });
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...run.diagnosis, timings: run.timings }, null, 2)}\n`);
  else process.stdout.write(`${formatDiagnosis(run.diagnosis)}\n(${run.timings['total']} ms)\n`);
  if (opts.failOnAssert && run.diagnosis.assertions.some((a) => a.ok === false)) process.exitCode = 1;
}
