/** Plain-text views of a trace for the terminal. */
import type { Trace, TensorStats } from '../trace/types.ts';

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n - 1) + '…' : s + ' '.repeat(n - s.length);
}
function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '-';
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(digits);
}
function ms(x: number | null | undefined): string {
  return x === null || x === undefined ? '-' : x.toFixed(3);
}
function statsLine(s: TensorStats | undefined): string {
  if (!s) return '';
  const bad = s.nanCount + s.infCount > 0 ? `  NaN ${s.nanCount} Inf ${s.infCount}` : '';
  return `min ${num(s.min)} max ${num(s.max)} mean ${num(s.mean)} std ${num(s.std)}${bad}`;
}

export function formatTraceSummary(trace: Trace, opts: { limit?: number } = {}): string {
  const h = trace.header;
  const limit = opts.limit ?? 25;
  const lines: string[] = [];
  const e = h.environment;
  lines.push(`trace ${h.id}${h.label ? ` (${h.label})` : ''}  ${h.createdAt}`);
  lines.push(`model   ${h.model.name}  ${h.model.format}  sha256 ${h.model.sha256.slice(0, 16)}…  ${h.model.nodeCount} nodes declared`);
  lines.push(`runtime ${h.runtime.name} ${h.runtime.version}  backend ${h.runtime.backend}  capture ${h.capture}`);
  lines.push(
    `device  ${e.userAgent}  cores ${e.hardwareConcurrency}${e.threads !== undefined ? `  threads ${e.threads}` : ''}` +
      `${e.floatPrecision !== undefined ? `  float${e.floatPrecision}` : ''}${e.webgl ? `  GPU ${e.webgl.renderer}` : ''}`,
  );
  const flags = Object.entries(e.flags);
  if (flags.length) lines.push(`flags   ${flags.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const t of h.input.tensors) lines.push(`input   ${t.name} [${t.shape}] ${t.dtype}  ${statsLine(t.stats)}`);
  const src = h.input.source;
  if (src) lines.push(`source  ${src.fileName} ${src.width}x${src.height} EXIF orientation ${src.exifOrientation}${src.iccProfile ? ` ICC profile "${src.iccProfile}"` : ''} sha256 ${src.sha256.slice(0, 12)}…`);
  if (h.timing) {
    lines.push(`timing  median ${ms(h.timing.medianMs)} ms over ${h.timing.runMs.length} runs (first run ${ms(h.timing.firstRunMs)} ms)`);
  }
  const kernelMs = h.kernels.reduce((a, k) => a + (k.ms ?? 0), 0);
  const clocks = [...new Set(h.kernels.map((k) => k.clock))].join(', ');
  lines.push(`graph   ${h.nodes.length} nodes ran, ${h.kernels.length} kernels, kernel time ${ms(kernelMs)} ms (clock: ${clocks || 'none'})`);
  for (const o of h.outputs) lines.push(`output  ${o.name} [${o.shape}] ${o.dtype}  ${statsLine(o.stats)}`);
  for (const w of h.warnings) lines.push(`warning ${w}`);

  const nodeMs = (i: number): number => h.nodes[i]!.kernels.reduce((a, k) => a + (h.kernels[k]?.ms ?? 0), 0);
  const slow = h.nodes.map((_, i) => i).sort((a, b) => nodeMs(b) - nodeMs(a));
  const shown = limit === 0 ? slow : slow.slice(0, limit);
  if (shown.length) {
    lines.push('', `${pad('slowest nodes', 48)} ${pad('op', 26)} ${pad('ms', 10)} output`);
    for (const i of shown) {
      const n = h.nodes[i]!;
      const o = n.outputs[0];
      lines.push(`${pad(n.name, 48)} ${pad(n.op, 26)} ${pad(ms(nodeMs(i)), 10)} ${o ? `[${o.shape}] ${statsLine(o.stats)}` : ''}`);
    }
  }
  return lines.join('\n');
}

export function formatKernels(trace: Trace, limit: number): string {
  const h = trace.header;
  const rows = limit === 0 ? h.kernels : h.kernels.slice(0, limit);
  const lines = [`${pad('#', 6)} ${pad('kernel', 26)} ${pad('node', 48)} ${pad('ms', 10)} clock`];
  for (const k of rows) lines.push(`${pad(String(k.index), 6)} ${pad(k.name, 26)} ${pad(k.node ?? '-', 48)} ${pad(ms(k.ms), 10)} ${k.clock}`);
  if (rows.length < h.kernels.length) lines.push(`… ${h.kernels.length - rows.length} more (--limit 0 for all)`);
  return lines.join('\n');
}
