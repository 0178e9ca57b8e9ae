/**
 * `exray sessions [ls|show|rm|export] [id]`: the runs `exray serve` stored, read straight from its
 * data directory (no server needed). Store errors become ExrayInputError (exit 2, one line naming the
 * id or directory).
 */
import { stat } from 'node:fs/promises';
import { ExrayInputError } from '../../errors.ts';
import { checkOutputDir } from '../../io/outputs.ts';
import { SessionIdError, SessionStore, UnknownSessionError } from '../../server/store.ts';
import { formatBytes } from '../../server/store-files.ts';
import type { SessionInfo } from '../../transport/wire.ts';

export type SessionsAction = 'ls' | 'show' | 'rm' | 'export';

export interface SessionsCommandOptions {
  data: string;
  json?: boolean;
  out?: string;
}

export async function sessionsCommand(action: SessionsAction, id: string | undefined, opts: SessionsCommandOptions): Promise<void> {
  const exists = await isDirectory(opts.data);
  if (action === 'ls') {
    const store = exists ? await SessionStore.open(opts.data) : null;
    const rows = store ? store.list().map((info) => ({ ...info, diskBytes: store.sessionBytes(info.id) })) : [];
    if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else process.stdout.write(rows.length === 0 ? `no sessions in ${opts.data}\n` : `${formatTable(rows)}\n`);
    return;
  }
  if (id === undefined) throw new ExrayInputError(`sessions ${action}`, 'a session id is required');
  if (!exists) throw new ExrayInputError(opts.data, 'no such data directory (give the one `exray serve` uses with --data)');
  const store = await SessionStore.open(opts.data);
  try {
    if (action === 'show') await show(store, id, opts);
    else if (action === 'rm') await removeSession(store, id, opts);
    else await exportSession(store, id, opts);
  } catch (e) {
    if (e instanceof SessionIdError) throw new ExrayInputError(JSON.stringify(e.id), "not a session id (expected 's-' and 16 lowercase hex digits)");
    if (e instanceof UnknownSessionError) throw new ExrayInputError(e.id, `no such session in ${opts.data}`);
    throw e;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function show(store: SessionStore, id: string, opts: SessionsCommandOptions): Promise<void> {
  const info = known(store, id);
  const comparison = summarizeComparison(await store.readJson(id, 'compare'));
  const diagnosis = await store.readJson(id, 'diagnosis');
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ session: info, diskBytes: store.sessionBytes(id), comparison, hasDiagnosis: diagnosis !== null }, null, 2)}\n`);
    return;
  }
  const lines = [
    `session  ${info.id}  ${info.status}${info.reason ? ` (${info.reason})` : ''}`,
    `device   ${info.device} (${info.deviceId})${info.gpu ? `  GPU ${info.gpu}` : ''}`,
    `         ${info.userAgent}`,
    `model    ${info.model.name}  ${info.model.format}  sha256 ${info.model.sha256.slice(0, 16)}…`,
    `run      ${info.label}  backend ${info.backend}  capture ${info.capture}`,
    `stored   ${nodesText(info)} nodes, ${formatBytes(info.blobBytes)} of tensors, ${formatBytes(store.sessionBytes(id))} on disk${info.hasPhoto ? ', photo' : ''}`,
    `created  ${info.createdAt}  updated ${info.updatedAt}`,
    `reference ${info.reference ?? 'none'}${info.referenceNote ? ` (${info.referenceNote})` : ''}`,
  ];
  if (comparison) {
    lines.push(`compare  ${comparison.verdict}: ${comparison.summary}`);
    if (comparison.firstDivergent) lines.push(`         first divergent: ${comparison.firstDivergent}`);
  } else lines.push('compare  none stored');
  if (info.cause) lines.push(`cause    ${info.cause}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function removeSession(store: SessionStore, id: string, opts: SessionsCommandOptions): Promise<void> {
  known(store, id);
  await store.remove(id);
  process.stdout.write(opts.json ? `${JSON.stringify({ removed: id })}\n` : `removed ${id}\n`);
}

async function exportSession(store: SessionStore, id: string, opts: SessionsCommandOptions): Promise<void> {
  known(store, id);
  if (!opts.out) throw new ExrayInputError(`sessions export ${id}`, '--out DIR is required');
  await checkOutputDir(opts.out, [opts.data]);
  const files = await store.exportTo(id, opts.out);
  process.stdout.write(opts.json ? `${JSON.stringify({ session: id, files }, null, 2)}\n` : `${files.map((f) => `wrote ${f}`).join('\n')}\n`);
}

function known(store: SessionStore, id: string): SessionInfo {
  const info = store.get(id);
  if (!info) throw new UnknownSessionError(id);
  return info;
}

interface ComparisonSummary {
  verdict: string;
  summary: string;
  firstDivergent: string | null;
  counts: unknown;
}

/** The headline of a stored Comparison (compare.json is the server's output; read defensively). */
function summarizeComparison(json: unknown): ComparisonSummary | null {
  if (typeof json !== 'object' || json === null) return null;
  const c = json as { verdict?: unknown; summary?: unknown; firstDivergent?: { name?: unknown; op?: unknown } | null; counts?: unknown };
  const fd = c.firstDivergent;
  return {
    verdict: typeof c.verdict === 'string' ? c.verdict : 'unknown',
    summary: typeof c.summary === 'string' ? c.summary : '',
    firstDivergent: fd && typeof fd.name === 'string' ? `${fd.name}${typeof fd.op === 'string' ? ` (${fd.op})` : ''}` : null,
    counts: c.counts ?? null,
  };
}

function nodesText(info: SessionInfo): string {
  return info.declaredNodes > 0 ? `${info.nodes}/${info.declaredNodes}` : String(info.nodes);
}

function formatTable(rows: (SessionInfo & { diskBytes: number })[]): string {
  const header = ['id', 'device', 'model', 'backend', 'status', 'nodes', 'size', 'created'];
  const cells = rows.map((r) => [r.id, r.device, r.model.name, r.backend, r.status, nodesText(r), formatBytes(r.diskBytes), r.createdAt]);
  const widths = header.map((h, i) => Math.min(40, Math.max(h.length, ...cells.map((c) => c[i]!.length))));
  const line = (c: string[]): string =>
    c
      .map((s, i) => (s.length > widths[i]! ? `${s.slice(0, widths[i]! - 1)}…` : s.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}
