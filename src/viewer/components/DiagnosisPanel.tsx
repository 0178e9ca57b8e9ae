/**
 * Diagnosis (issue 5): the built-in and user assertions per run and the ranked causes per edge run vs
 * the reference (src/diagnose, with single-node replays in a trace worker: state/diagnosis.ts), or, for an opened
 * edge trace given its original photo, the CLI's diagnosis (PhotoDiagnosis.tsx); then the latency
 * guidance. Computed in state/diagnosis.ts and state/photo-diagnosis.ts, memoised per trace.
 */
import { Fragment, type ReactNode } from 'react';
import type { AssertionResult } from '../../diagnose/index.ts';
import type { RunState } from '../state/run-state.ts';
import { diagnoseRun, runAssertionsFor } from '../state/diagnosis.ts';
import { referenceRun } from '../state/session.ts';
import { useApp } from '../state/store.ts';
import { fmtPct } from '../util/format.ts';
import { CauseItem, InfoFindings, NodeButton, ReplaySplit } from './Causes.tsx';
import { LatencyGuidance } from './LatencyGuidance.tsx';
import { PhotoCauses, PhotoPicker } from './PhotoDiagnosis.tsx';
import { UserAssertionsEditor } from './UserAssertions.tsx';
import { photoDiagnosisFor, photoDiagnosisResult } from '../state/photo-diagnosis.ts';
import { largestOwnError } from '../util/finding.ts';
import { fmtErr } from '../util/format.ts';
import { ServerCause } from '../remote/ServerCause.tsx';

const RANK = (a: AssertionResult): number => (a.ok === false ? 0 : a.ok === true ? 1 : 2);

function AssertionLine({ a }: { a: AssertionResult }): ReactNode {
  const word = a.ok === false ? 'failed' : a.ok === true ? 'ok' : 'n/a';
  return (
    <li data-testid="assertion" data-id={a.id} data-ok={word} data-user={a.builtin ? 'false' : 'true'} title={a.description}>
      <strong className={a.ok === false ? 'bad' : a.ok === true ? 'ok' : 'muted'}>{word}</strong> <code>{a.id}</code>{' '}
      {!a.builtin && <span className="badge">user</span>}{' '}
      <span className={a.ok === false ? '' : 'small muted'}>{a.detail}</span>
    </li>
  );
}

function RunAssertions({ r }: { r: RunState }): ReactNode {
  const s = useApp();
  const photo = photoDiagnosisFor(r.trace);
  const concluded = photo ? photoDiagnosisResult(photo) : null;
  const results = concluded && !('error' in concluded) ? concluded.assertions : runAssertionsFor(r, s.model?.card ?? null);
  if (!results) return null;
  const sorted = [...results].sort((a, b) => RANK(a) - RANK(b));
  const failed = results.filter((a) => a.ok === false).length;
  const passed = results.filter((a) => a.ok === true).length;
  const skipped = results.length - failed - passed;
  const line = `${passed} ok${skipped ? `, ${skipped} not applicable` : ''}${results.some((a) => !a.builtin) ? `, ${results.filter((a) => !a.builtin).length} yours` : ''}`;
  return (
    <div data-testid="assertions-run" data-stream={r.stream} data-failed={failed} data-all-ok={failed === 0 ? 'true' : 'false'}>
      {failed === 0 ? (
        <details>
          <summary>
            <strong>{r.stream}</strong>: <span className="ok">all ok</span> <span className="small muted">({line})</span>
          </summary>
          <ul className="small">{sorted.map((a) => <AssertionLine key={a.id} a={a} />)}</ul>
        </details>
      ) : (
        <>
          <p>
            <strong>{r.stream}</strong>: <span className="bad">{failed} failed</span> <span className="small muted">({line})</span>
          </p>
          <ul>{sorted.map((a) => <AssertionLine key={a.id} a={a} />)}</ul>
        </>
      )}
    </div>
  );
}

function RunCauses({ r }: { r: RunState }): ReactNode {
  const photo = photoDiagnosisFor(r.trace);
  if (photo) return <PhotoCauses r={r} d={photo} />;
  const d = diagnoseRun(r, referenceRun());
  if (!d) return null;
  if ('error' in d) {
    return (
      <div data-testid="diagnosis-run" data-stream={r.stream} data-top-cause="error">
        <strong>{r.stream}</strong>: <span className="bad">diagnosis failed: {d.error}</span>
      </div>
    );
  }
  const dg = d.diagnosis;
  const largest = largestOwnError(dg.nodes);
  const originNames = [...new Set(d.origins.map((k) => r.comparison?.nodes.find((n) => n.key === k)?.name ?? k.replace(/:\d+$/, '')))];
  return (
    <div data-testid="diagnosis-run" data-stream={r.stream} data-top-cause={dg.causes[0]?.code ?? 'none'}>
      <p>
        <strong>{r.stream}</strong> <span className="small muted">vs {referenceRun()?.stream ?? 'reference'}: {dg.summary}</span>
      </p>
      <ol data-testid="causes">{dg.causes.map((c, i) => <CauseItem key={`${c.code}-${i}`} r={r} c={c} />)}</ol>
      <InfoFindings info={dg.info} />
      <p className="small">
        {dg.firstDivergentNode && (
          <span data-testid="diagnosis-first-divergent">
            error enters at <NodeButton r={r} name={dg.firstDivergentNode} /> (first node beyond tolerance)
            {largest ? '; ' : '. '}
          </span>
        )}
        {largest && (
          <span data-testid="diagnosis-largest-own" data-node={largest.node}>
            {largest.node === dg.firstDivergentNode ? 'the same node has the largest own error' : <>largest own error at <NodeButton r={r} name={largest.node} /></>} (replayed alone, own nrmse{' '}
            {fmtErr(largest.own)}).{' '}
          </span>
        )}
        {originNames.length > 0 && (
          <span data-testid="divergence-origins">
            divergence origins:{' '}
            {originNames.slice(0, 6).map((n, i) => (
              <span key={n}>
                {i > 0 && ', '}
                <NodeButton r={r} name={n} />
              </span>
            ))}
            {originNames.length > 6 && ` … ${originNames.length - 6} more`}.{' '}
          </span>
        )}
        <span data-testid="half-evidence" data-likely={d.half.likely ? 'true' : 'false'} className="muted">
          float16 evidence: {d.half.likely ? d.half.reasons.join(', ') : 'none'}
          {!d.half.likely && d.half.representable !== null && ` (${fmtPct(d.half.representable)} of sampled values are float16 values)`}.
        </span>
      </p>
      <ReplaySplit
        r={r}
        nodes={dg.nodes}
        s={{ status: d.replays.status, backend: d.replays.backend, requested: d.replays.nodes.length, ms: d.replays.ms, note: d.replays.note }}
        {...(r.trace ? { repro: { edge: r.trace, edgeFile: r.where, results: d.replays.results, backend: d.replays.backend } } : {})}
      />
      {dg.warnings.map((w) => (
        <p key={w} className="small muted" data-testid="diagnosis-warning">
          {w}
        </p>
      ))}
    </div>
  );
}

export function DiagnosisPanel(): ReactNode {
  const s = useApp();
  const done = s.runs.filter((r) => r.trace);
  if (done.length === 0) return null;
  const edges = done.filter((r) => r.role === 'edge');
  return (
    <>
      <section className="panel" data-testid="assertions-panel" aria-labelledby="assert-h">
        <h2 id="assert-h">Assertions</h2>
        {done.map((r) => (
          <RunAssertions key={r.stream} r={r} />
        ))}
        <UserAssertionsEditor />
      </section>
      {edges.length > 0 && (
        <section className="panel" data-testid="diagnosis-panel" aria-labelledby="diag-h">
          <h2 id="diag-h">Diagnosis</h2>
          <p className="small muted">
            {s.source === 'files' ? 'Without the original photo, causes' : 'Causes'} come from the two traces (src/diagnose) and, for <code>tensors</code> traces, from
            single-node replays: each suspicious node runs alone on the reference backend with the edge's recorded inputs, which splits its own error from the one it inherited, as{' '}
            <code>exray diagnose</code> does.
          </p>
          {s.source === 'files' && <PhotoPicker />}
          {edges.map((r) => (
            <Fragment key={r.stream}>
              <RunCauses r={r} />
              <ServerCause r={r} />
            </Fragment>
          ))}
        </section>
      )}
      <LatencyGuidance />
    </>
  );
}
