/**
 * Writes a trace to disk while it runs (Node): every event goes to a TraceStreamWriter whose zip bytes
 * go straight to a temp file beside the output, so a trace's tensors are never all in memory; at the
 * end the file is fsynced and renamed over the output (atomic, as src/io/atomic.ts writes). A failure
 * or an interrupt removes the temp file and leaves the previous output as it was.
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, realpath, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, registerTemp, tempPathFor } from '../io/atomic.ts';
import { outputWriteError } from '../io/outputs.ts';
import { TraceStreamWriter } from '../trace/file-writer.ts';
import { zlibCrc32 } from '../io/zlib-native.ts';
import type { Trace, TraceEvent, TraceHeader } from '../trace/types.ts';
import { ExrayInputError } from '../errors.ts';
import { nodeSelection, NodePatternError, type NodeSelection } from '../instrument/node-select.ts';
import type { NodeTraceOptions } from '../reference/trace-node.ts';

export interface StreamedTraceFile {
  /** Give it every event of the run, in order. */
  onEvent(event: TraceEvent): void;
  /** After the run: validate, write header.json, fsync, rename. Returns the header. */
  commit(): Promise<TraceHeader>;
  /** After a failure: remove the temp file (the output is untouched). */
  abort(): void;
}

export async function openStreamedTrace(path: string): Promise<StreamedTraceFile> {
  await mkdir(dirname(path), { recursive: true });
  const target = await realpath(path).catch(() => path);
  const temp = tempPathFor(target);
  const release = registerTemp(temp);
  let fd: number | undefined;
  const fail = (e: unknown): never => {
    throw outputWriteError(path, e);
  };
  try {
    fd = openSync(temp, 'wx', 0o644);
  } catch (e) {
    release();
    fail(e);
  }
  const out = fd!;
  const writer = new TraceStreamWriter(
    (chunk) => {
      let done = 0;
      while (done < chunk.length) done += writeSync(out, chunk, done, chunk.length - done);
    },
    { file: path, crc32: zlibCrc32 },
  );
  let closed = false;
  const cleanup = (): void => {
    if (!closed) {
      closed = true;
      try {
        closeSync(out);
      } catch {
        // already closed
      }
    }
    try {
      unlinkSync(temp);
    } catch {
      // renamed or gone
    }
    release();
  };
  return {
    onEvent(event) {
      try {
        writer.push(event);
      } catch (e) {
        cleanup();
        if ((e as NodeJS.ErrnoException).code !== undefined) fail(e);
        throw e;
      }
    },
    async commit() {
      try {
        const header = writer.finish();
        fsyncSync(out);
        closeSync(out);
        closed = true;
        // The writes above are synchronous: an interrupt that arrived meanwhile is handled (the temp
        // removed, the process ends: src/io/atomic.ts) only in an event-loop poll phase that starts
        // after it. Two check-phase hops guarantee one such poll before the rename, so an interrupted
        // write never replaces the previous file.
        for (let hop = 0; hop < 2; hop++) await new Promise((r) => setImmediate(r));
        await rename(temp, target);
        release();
        await fsyncDir(dirname(target));
        return header;
      } catch (e) {
        cleanup();
        if ((e as NodeJS.ErrnoException).code !== undefined) fail(e);
        throw e;
      }
    },
    abort: cleanup,
  };
}

/** `--nodes` → a selection; an invalid /regex/ is a usage error naming the pattern. */
export function selectionOf(model: string, patterns: string[] | undefined): NodeSelection | undefined {
  try {
    return nodeSelection(patterns);
  } catch (e) {
    if (e instanceof NodePatternError) throw new ExrayInputError(model, e.message);
    throw e;
  }
}

/**
 * Run a model in Node and write its trace as it runs (blobs go to the file as they are read: see
 * src/cli/trace-writer.ts); returns the trace without blobs (header only), for the summary. `check`
 * sees each event first; when it throws, the run stops and nothing is written.
 */
export async function traceInNodeToFile(out: string, opts: Omit<NodeTraceOptions, 'onEvent' | 'streamOnly'>, check?: (event: TraceEvent) => void): Promise<Trace> {
  const { traceInNode } = await import('../reference/trace-node.ts');
  const file = await openStreamedTrace(out);
  try {
    await traceInNode({
      ...opts,
      streamOnly: true,
      onEvent: (e) => {
        // `check` throws to stop the run (e.g. at run-start: a card that is not this model's).
        check?.(e);
        file.onEvent(e);
      },
    });
  } catch (e) {
    file.abort();
    throw e;
  }
  return { header: await file.commit(), blobs: new Map() };
}
