/**
 * The built CLI (scripts/build-cli.mjs → dist-cli/) and bin/exray.mjs's choice between it and the sources.
 * Built into a private package root (bin/ and package.json copied, src/ and node_modules/ linked): the
 * repo's own dist-cli/ is left alone, other processes may be running it.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTrace } from '../src/trace/file-writer.ts';
import { makeTrace } from '../src/trace/test-fixtures.ts';

const ROOT = join(import.meta.dirname, '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const exec = promisify(execFile);

let pkg: string;
let traceFile: string;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function exray(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { EXRAY_FROM_SOURCE: _, NODE_OPTIONS: __, ...base } = process.env;
  try {
    const r = await exec(process.execPath, [join(pkg, 'bin', 'exray.mjs'), ...args], { cwd: pkg, env: { ...base, EXRAY_DEBUG: '1', ...env }, timeout: 30_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}
const fromSources = (args: string[]): Promise<Run> => exray(args, { EXRAY_FROM_SOURCE: '1' });
/** What bin/ said it ran (EXRAY_DEBUG), and stderr without that line. */
const which = (r: Run): string => /^exray: running (the built CLI|the sources)/m.exec(r.err)?.[1] ?? '?';
const rest = (r: Run): string => r.err.replace(/^exray: running .*\n/m, '');

/** Bare specifiers the module graph of `entry` imports statically (what loading it loads). */
function staticBareImports(entry: string): Set<string> {
  const bare = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/^(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|^import\s*["']([^"']+)["']/gm)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) visit(join(file, '..', spec));
      else bare.add(spec);
    }
  };
  visit(entry);
  return bare;
}

beforeAll(async () => {
  pkg = mkdtempSync(join(tmpdir(), 'exray-cli-bundle-'));
  mkdirSync(join(pkg, 'bin'));
  cpSync(join(ROOT, 'bin', 'exray.mjs'), join(pkg, 'bin', 'exray.mjs'));
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'src'), join(pkg, 'src'), 'dir');
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  await exec(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs'), '--out', join(pkg, 'dist-cli')], { cwd: ROOT, timeout: 60_000 });
  traceFile = join(pkg, 'synthetic.exray');
  writeFileSync(traceFile, encodeTrace(makeTrace(3)));
}, 60_000);

afterAll(() => {
  if (pkg) rmSync(pkg, { recursive: true, force: true });
});

describe('the built CLI', () => {
  it('answers --version with the package version and --help as the sources do', async () => {
    const [version, help, srcHelp] = await Promise.all([exray(['--version']), exray(['--help']), fromSources(['--help'])]);
    expect([which(version), version.code, version.out, rest(version)]).toEqual(['the built CLI', 0, `${VERSION}\n`, '']);
    expect([which(help), which(srcHelp)]).toEqual(['the built CLI', 'the sources']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: exray \[options\] \[command\]/);
    expect(help.out).toContain('-V, --version');
    expect(help.out).toBe(srcHelp.out);
  }, 30_000);

  it('runs a command (inspect, text and --json) with the same output as the sources, and a bad input the same way', async () => {
    const runs = await Promise.all([
      exray(['inspect', traceFile]),
      fromSources(['inspect', traceFile]),
      exray(['inspect', traceFile, '--json', '--limit', '0']),
      exray(['inspect', join(pkg, 'missing.exray')]),
    ]);
    const [text, srcText, json, missing] = runs;
    expect(runs.map(which)).toEqual(['the built CLI', 'the sources', 'the built CLI', 'the built CLI']);
    expect([text!.code, srcText!.code, json!.code]).toEqual([0, 0, 0]);
    expect(text!.out.length).toBeGreaterThan(200);
    expect(text!.out).toBe(srcText!.out);
    expect((JSON.parse(json!.out) as { format: string }).format).toBe('exray-trace');
    expect(missing!.code).toBe(2);
    expect(rest(missing!)).toMatch(/^exray: .*missing\.exray: .*\n$/);
  }, 30_000);

  it('--help and --version load commander and no heavy package (each command is a chunk imported when it runs)', () => {
    const bare = [...staticBareImports(join(pkg, 'dist-cli', 'main.js'))].filter((s) => !s.startsWith('node:')).sort();
    expect(bare).toEqual(['commander']);
  });

  it('bin/ runs the sources when a source file is newer than the bundle', async () => {
    const stampFile = join(pkg, 'dist-cli', 'stamp.json');
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { builtAt: number; inputs: string[] };
    expect(stamp.inputs).toContain('src/cli/main.ts');
    writeFileSync(stampFile, JSON.stringify({ ...stamp, builtAt: 0 }));
    const r = await exray(['--version']);
    expect([which(r), r.out]).toEqual(['the sources', `${VERSION}\n`]);
    expect(r.err).toMatch(/changed since the build/);
  }, 30_000);
});
