/**
 * `tsx src/models/cli.ts [--force] [--quiet-if-done] [--root DIR]`: extract the sample models.
 * Exit code 1 with the ExrayInputError message on bad input.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExrayInputError } from '../errors.ts';
import { extractModels, type ExtractReport } from './extract.ts';

export async function runModelsCommand(args: readonly string[], out: (line: string) => void = console.log): Promise<ExtractReport> {
  const force = args.includes('--force');
  const quietIfDone = args.includes('--quiet-if-done');
  const rootAt = args.indexOf('--root');
  const projectRoot = rootAt >= 0 && args[rootAt + 1] ? path.resolve(args[rootAt + 1] as string) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const lines: string[] = [];
  const report = await extractModels({ projectRoot, force, log: (l) => lines.push(l) });
  const extracted = report.models.filter((m) => m.status === 'extracted');
  if (extracted.length === 0) {
    if (!quietIfDone) out(`exray models: all ${report.models.length} sample models up to date in ${report.modelsDir} (${report.ms.toFixed(0)} ms)`);
  } else {
    out(`exray models: extracted ${extracted.length} of ${report.models.length} sample models into ${report.modelsDir}`);
    for (const l of lines) out(l);
    out(`  done in ${(report.ms / 1000).toFixed(1)} s`);
  }
  return report;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runModelsCommand(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof ExrayInputError ? `exray models: ${e.message}` : e);
    process.exitCode = 1;
  });
}
