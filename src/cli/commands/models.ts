import { extractModels } from '../../models/extract.ts';

export async function modelsCommand(opts: { force?: boolean; quietIfDone?: boolean }): Promise<void> {
  const lines: string[] = [];
  const report = await extractModels({ projectRoot: process.cwd(), force: opts.force ?? false, log: (l) => lines.push(l) });
  const changed = report.models.filter((m) => m.status === 'extracted');
  if (opts.quietIfDone && changed.length === 0) return;
  for (const m of report.models) {
    const bytes = m.files.reduce((a, f) => a + f.bytes, 0);
    process.stdout.write(`${m.status === 'extracted' ? 'extracted ' : 'up to date'} ${m.name.padEnd(24)} ${(bytes / 1e6).toFixed(1).padStart(6)} MB  ${m.dir}\n`);
  }
  process.stdout.write(`${report.models.length} sample models in ${report.modelsDir} (${Math.round(report.ms)} ms)\n`);
}
