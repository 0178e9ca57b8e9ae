/**
 * One cause of a diagnosis (code, confidence, node: click to inspect it, detail, the explanations that
 * fit as well ranked below it), the findings that are not a cause (`info`), a node link, and the
 * single-node replays' own vs inherited error per replayed node, with a repro bundle per node whose own
 * error breaks tolerance (state/repro.ts).
 */
import { useState, type ReactNode } from 'react';
import type { AlternativeExplanation, Cause, NodeAttribution } from '../../diagnose/index.ts';
import { reproTolerance } from '../../diagnose/repro-bundle.ts';
import type { ReplayResult } from '../../instrument/common.ts';
import type { Trace } from '../../trace/types.ts';
import { nodeKey } from '../state/diagnosis.ts';
import { heldModelOf, missingModelReason } from '../state/reference-model.ts';
import type { RunState } from '../state/run-state.ts';
import { setState } from '../state/store.ts';
import { fmtErr, fmtMs, fmtPct } from '../util/format.ts';

const CH = ['R', 'G', 'B'];
const num = (x: number): string => String(Number(x.toPrecision(3)));

/** An explanation that fits the edge input as well as the cause, ranked below it (docs/diagnose.md). */
function Alternative({ a, rank }: { a: AlternativeExplanation; rank: number }): ReactNode {
  const channels = a.channels.map((c) => CH[c] ?? String(c)).join('');
  return (
    <div className="alternative small" data-testid="cause-alternative" data-codes={a.codes.join(' ')} data-residual={a.residualLevels}>
      <span className="muted">{rank === 0 ? 'runner-up' : `alternative ${rank + 1}`}</span>{' '}
      {a.codes.length > 0 ? a.codes.map((c) => <span key={c} className="badge v-alt">{c}</span>) : <span className="badge v-alt">card pipeline</span>}{' '}
      <span className="muted">fits as well: {num(a.residualLevels)} levels rms</span>
      <details>
        <summary>{a.detail}</summary>
        <p className="muted" data-testid="alternative-fit">
          channels {channels}; per channel value = scale·pixel + offset:{' '}
          {a.affine.scale.map((sc, i) => `${CH[a.channels[i] ?? i] ?? i} ${num(sc)}·p ${a.affine.offset[i]! < 0 ? '−' : '+'} ${num(Math.abs(a.affine.offset[i]!))}`).join(', ')}.
          Ranked below the cause: the rule prefers the more common explanation that changes less.
        </p>
      </details>
    </div>
  );
}

export function CauseItem({ r, c }: { r: RunState; c: Cause }): ReactNode {
  return (
    <li data-testid="cause" data-code={c.code} data-confidence={c.confidence}>
      <span className={`badge ${c.code === 'none' ? 'v-ok' : 'v-diverged'}`}>{c.code}</span> <span className="small muted">{fmtPct(c.confidence)}</span>
      {c.node && (
        <>
          {' at '}
          <button type="button" className="link" data-testid="cause-node" onClick={() => setState({ selectedRun: r.stream, selectedNode: nodeKey(r, c.node!) })}>
            {c.node}
          </button>
        </>
      )}
      <div className="small" data-testid="cause-detail">
        {c.detail}
      </div>
      {c.alternatives?.map((a, i) => <Alternative key={`${a.codes.join('+')}-${i}`} a={a} rank={i} />)}
    </li>
  );
}

/** Findings that are not a deployment bug on their own (a different JPEG decoder within tolerance). */
export function InfoFindings({ info }: { info: readonly Cause[] | undefined }): ReactNode {
  if (!info?.length) return null;
  return (
    <div className="info-findings" data-testid="diagnosis-info">
      <p className="small">
        <strong>Information</strong> <span className="muted">— measured, not the cause of the difference:</span>
      </p>
      <ul className="small">
        {info.map((c, i) => (
          <li key={`${c.code}-${i}`} data-testid="info-finding" data-code={c.code}>
            <span className="badge v-info">{c.code}</span> {c.detail}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function NodeButton({ r, name }: { r: RunState; name: string }): ReactNode {
  return (
    <button type="button" className="link" onClick={() => setState({ selectedRun: r.stream, selectedNode: nodeKey(r, name) })}>
      {name}
    </button>
  );
}

export interface ReplaySummary {
  status: 'running' | 'done' | 'failed' | 'none';
  backend: string;
  /** Nodes asked for. */
  requested: number;
  ms: number | null;
  note: string | null;
}

/**
 * Own vs inherited error of the replayed nodes (largest own error first, 8 shown): each node run alone
 * on the reference backend with the edge's recorded inputs. own = edge vs replay, inherited = replay vs
 * reference.
 */
/** What a repro bundle is made from on the page: the edge trace and the reference's single-node replays. */
export interface ReproSource {
  edge: Trace;
  /** The edge trace's file (or run) name, in messages. */
  edgeFile: string;
  results: readonly ReplayResult[];
  /** The backend the replays ran on (the expected outputs'). */
  backend: string;
}

type ReproStatus = { status: 'idle' | 'building' | 'done' | 'failed'; text: string };

/** Download one node's repro bundle (.zip), built in the page; disabled with the reason when it cannot be. */
function ReproButton({ node, src }: { node: string; src: ReproSource }): ReactNode {
  const [st, setSt] = useState<ReproStatus>({ status: 'idle', text: '' });
  const replay = src.results.find((x) => x.node === node);
  const reason = !replay
    ? 'no reference output for this node (not replayed)'
    : replay.error
      ? `no reference output for this node (${replay.error})`
      : replay.outputs.every((o) => o === null)
        ? 'no reference output for this node'
        : heldModelOf(src.edge)
          ? null
          : missingModelReason(src.edge);
  const build = async (): Promise<void> => {
    if (!replay) return;
    setSt({ status: 'building', text: 'building…' });
    try {
      const { downloadReproBundle } = await import('../state/repro.ts');
      const made = downloadReproBundle({ edge: src.edge, edgeFile: src.edgeFile, node, expected: replay.outputs, referenceBackend: src.backend });
      setSt({ status: 'done', text: `downloaded ${made.fileName} (${made.files.length} files, ${Math.max(1, Math.round(made.bytes / 1024))} KB)` });
    } catch (e) {
      setSt({ status: 'failed', text: e instanceof Error ? e.message : String(e) });
    }
  };
  return (
    <li data-testid="repro-node" data-node={node}>
      <button
        type="button"
        className="button small"
        data-testid="repro-button"
        data-node={node}
        data-reason={reason ?? ''}
        disabled={reason !== null || st.status === 'building'}
        onClick={() => void build()}
      >
        {reason ? `repro bundle: ${reason}` : st.status === 'building' ? 'repro bundle: building…' : 'repro bundle (.zip)'}
      </button>{' '}
      <code className="node-name">{node}</code>
      {st.text && (
        <span data-testid="repro-status" data-status={st.status} className={st.status === 'failed' ? 'bad' : 'muted'} role="status">
          {' '}
          {st.text}
        </span>
      )}
    </li>
  );
}

/** A repro bundle per node whose own error breaks tolerance (8 at most, largest first). */
function ReproBundles({ nodes, src }: { nodes: readonly NodeAttribution[]; src: ReproSource }): ReactNode {
  const tol = reproTolerance();
  const names = [...new Set(nodes.filter((a) => (a.own ?? 0) > tol).map((a) => a.node))].slice(0, 8);
  if (names.length === 0) return null;
  return (
    <div className="repro-bundles small" data-testid="repro-bundles">
      <p className="muted">
        Repro bundle for a runtime bug report, as <code>exray repro</code> writes it: the node cut out as a one-node model, its recorded inputs, the reference's output, a Node
        script, a page and a README — runnable without exray.
      </p>
      <ul>
        {names.map((n) => (
          <ReproButton key={n} node={n} src={src} />
        ))}
      </ul>
    </div>
  );
}

export function ReplaySplit({ r, nodes, s, repro }: { r: RunState; nodes: readonly NodeAttribution[]; s: ReplaySummary; repro?: ReproSource }): ReactNode {
  const replayed = nodes.filter((a) => a.own !== null).sort((a, b) => (b.own ?? 0) - (a.own ?? 0));
  const failed = new Set(nodes.filter((a) => a.replayNote).map((a) => a.node)).size;
  const head =
    s.status === 'running'
      ? `single-node replay of ${s.requested} nodes on ${s.backend}…`
      : s.status === 'failed'
        ? `single-node replay failed: ${s.note ?? 'unknown error'}`
        : s.status === 'none' || s.requested === 0
          ? `no single-node replay${s.note ? `: ${s.note}` : ''}`
          : `single-node replay on ${s.backend}: ${new Set(replayed.map((a) => a.node)).size} of ${s.requested} nodes replayed${failed ? ` (${failed} could not be)` : ''}${s.ms !== null ? `, ${fmtMs(s.ms)}` : ''}`;
  return (
    <div data-testid="replay-split" data-status={s.status} data-requested={s.requested} data-replayed={replayed.length}>
      <p className="small muted">{head}</p>
      {replayed.length > 0 && (
        <table className="small">
          <thead>
            <tr>
              <th>node</th>
              <th>op</th>
              <th title="edge vs reference">total nrmse</th>
              <th title="edge vs the node replayed alone on the edge's inputs">own</th>
              <th title="the replay vs the reference: what the node's inputs carried in">inherited</th>
            </tr>
          </thead>
          <tbody>
            {replayed.slice(0, 8).map((a) => (
              <tr key={a.key} data-testid="replay-node" data-node={a.node} data-own={a.own ?? ''} data-inherited={a.inherited ?? ''}>
                <td>
                  <NodeButton r={r} name={a.node} />
                </td>
                <td>{a.op}</td>
                <td>{fmtErr(a.total)}</td>
                <td className={(a.own ?? 0) > reproTolerance() ? 'bad' : ''}>{fmtErr(a.own)}</td>
                <td>{fmtErr(a.inherited)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {repro && s.status === 'done' && <ReproBundles nodes={replayed} src={repro} />}
    </div>
  );
}
