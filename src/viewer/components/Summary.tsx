/** One row per run: latency, output agreement with the reference, verdict, first divergent node. */
import { useMemo, type ReactNode } from 'react';
import { describeOutputs, measureRank, type OutputComparison, type TopKAgreement, type TopKEntry } from '../../compare/index.ts';
import { cardOutputKinds } from '../../models/card-schema.ts';
import type { RunState } from '../state/run-state.ts';
import { currentCompareOptions, referenceRun } from '../state/session.ts';
import { setState, useApp } from '../state/store.ts';
import { exportModelExplorer, exportPerfetto, saveRun } from '../state/trace-files.ts';
import { nodeRows } from '../state/node-rows.ts';
import { fmtErr, fmtMs, fmtPct, fmtVal } from '../util/format.ts';
import { ctcOutput, decodeRunText } from '../state/ocr.ts';
import { scoreOf, scoreOutputs } from '../state/card-scores.ts';
import { diagnoseRun } from '../state/diagnosis.ts';
import { largestOwnError, tensorOutputText, topKMeaningful } from '../util/finding.ts';

/** OCR recognisers: the text this run read (CTC greedy decoding of its final output with the card's labels). */
function DecodedText({ r }: { r: RunState }): ReactNode {
  const s = useApp();
  if (!r.trace) return <span className="muted">…</span>;
  const d = decodeRunText(r.trace, s.model?.card ?? null);
  if (!d) return null;
  if ('error' in d) return <span className="bad" data-testid="decoded-text-error">{d.error}</span>;
  return (
    <span data-testid="decoded-text" title={`mean probability of the emitted characters ${fmtPct(d.confidence)}`}>
      “{d.text}” <span className="small muted">{Number.isFinite(d.confidence) ? fmtPct(d.confidence) : ''}</span>
    </span>
  );
}

/** Single-label classifier outputs (a speech probability): this run's value. */
function Scores({ r }: { r: RunState }): ReactNode {
  const s = useApp();
  if (!r.trace) return <span className="muted">…</span>;
  const trace = r.trace;
  return (
    <>
      {scoreOutputs(s.model?.card ?? null).map((o) => {
        const v = scoreOf(trace, o);
        return (
          <div key={o.name} data-testid="output-score" data-output={o.name} data-value={v ?? ''} title={`output ${o.name}`}>
            {o.label} <strong>{fmtVal(v)}</strong>
          </div>
        );
      })}
    </>
  );
}

function entry(e: TopKEntry | undefined): string {
  if (!e) return '–';
  return `${e.label ?? `#${e.index}`} ${e.probability === null ? '' : fmtPct(e.probability)}`;
}

function TopK({ t, guess }: { t: TopKAgreement; guess: boolean }): ReactNode {
  return (
    <span data-testid="topk" data-top1={t.top1Equal ? 'agrees' : 'differs'}>
      {/* Class scores only guessed from the values (opened traces of a model without a card) say so. */}
      {guess && <span className="small muted" data-testid="topk-guess">scores (guess): </span>}
      top-1 <strong className={t.top1Equal ? 'ok' : 'bad'}>{t.top1Equal ? 'agrees' : 'differs'}</strong>: {entry(t.edge[0])}
      {!t.top1Equal && <> vs ref {entry(t.ref[0])}</>} · top-{t.k} overlap {t.overlap}/{t.k}
    </span>
  );
}

/** At most this many outputs get a line in the summary cell; the rest are counted (all are in the title). */
const OUTPUT_LINES = 3;

/**
 * Each output with the measure that fits its kind (issue 14 item 4): `embedding (guess): cosine 0.9998`,
 * `keypoints: 17 points, mean distance …`. An output of no known kind is compared as a tensor.
 */
function OutputMeasures({ outs, cardClass }: { outs: readonly OutputComparison[]; cardClass: boolean }): ReactNode {
  // The most telling measures first (decoded boxes before raw detection heads), then the model's order.
  const shown = outs
    .map((t, i) => ({ t, i }))
    .sort((a, b) => measureRank(a.t.kind, a.t.measure) - measureRank(b.t.kind, b.t.measure) || a.i - b.i)
    .slice(0, OUTPUT_LINES)
    .map((x) => x.t);
  return (
    <div className="small muted" title={outs.map((t) => `${t.name}: ${t.measureText}`).join('\n')}>
      {shown.map((t) =>
        t.kind.kind === 'other' ? (
          <div key={t.name} data-testid="output-as-tensor">
            {outs.length > 1 ? `${t.name}: ` : ''}
            {tensorOutputText(t.metrics, !cardClass)}
          </div>
        ) : (
          <div key={t.name} data-testid="output-measure" data-output={t.name} data-kind={t.kind.kind} data-source={t.kind.source}>
            {outs.length > 1 ? `${t.name}: ` : ''}
            {t.measureText}
          </div>
        ),
      )}
      {outs.length > shown.length && <div>+{outs.length - shown.length} more outputs</div>}
    </div>
  );
}

/** The runtime that ran `r` (`tfjs`, `onnxruntime-web`, …), once known. */
function runtimeOf(r: RunState): string | undefined {
  return r.trace?.header.runtime.name ?? r.start?.runtime.name;
}

function verdictOf(r: RunState): string {
  if (r.status === 'failed') return 'failed';
  if (r.role === 'reference') return 'reference';
  if (r.comparison) return r.comparison.verdict;
  if (r.status === 'done') return referenceRun() ? 'comparing' : 'no reference';
  return r.status;
}

function Row({ r, painted }: { r: RunState; painted: boolean }): ReactNode {
  const s = useApp();
  const ref = referenceRun();
  const c = r.comparison;
  const rows = r.role === 'edge' ? nodeRows(r, ref) : [];
  const fd = c?.firstDivergent ?? null;
  let worst: number | null = null;
  for (const row of rows) if (row.nrmse !== null && Number.isFinite(row.nrmse)) worst = Math.max(worst ?? 0, row.nrmse);
  // Top-k only for class scores (a card's classification output, or labels); else the output as a tensor (issue 12 item 9).
  // Opened traces may come from another model than the page's: their outputs keep top-k as before.
  const cardClass = s.source === 'files' || (s.model?.card?.outputs.some((o) => o.meaning === 'classification') ?? false);
  // The page's comparison knows the card's class-score outputs only: with a card, the outputs are
  // described again with its output kinds, so they are not shown as guesses.
  const card = s.model?.card ?? null;
  const edgeTrace = r.trace;
  const refTrace = ref?.trace;
  const outs = useMemo(
    () =>
      c && card && s.source !== 'files' && edgeTrace && refTrace
        ? describeOutputs(edgeTrace, refTrace, c.outputs.tensors, { ...currentCompareOptions(), outputKinds: cardOutputKinds(card) })
        : (c?.outputs.tensors ?? []),
    [c, card, s.source, edgeTrace, refTrace],
  );
  const scoresOut = outs.find((t) => t.topK);
  const rawTopK = scoresOut?.topK ?? null;
  const topK = rawTopK && topKMeaningful(rawTopK, cardClass) ? rawTopK : null;
  // The largest own error from the single-node replays, beside where the error enters (issue 12 item 7).
  // The diagnosis it comes from waits for the results' first paint (RunResults `painted`).
  const d = painted && c && fd ? diagnoseRun(r, ref) : null;
  const largest = d && !('error' in d) ? largestOwnError(d.diagnosis.nodes) : null;
  const liveFirst = !c ? rows.find((x) => x.firstDivergent) : undefined;
  const verdict = verdictOf(r);
  const t = r.timing ?? r.trace?.header.timing ?? null;
  const selected = s.selectedRun === r.stream;
  const ocr = ctcOutput(s.model?.card ?? null) !== null && s.source === 'live';
  const scores = scoreOutputs(s.model?.card ?? null).length > 0 && s.source === 'live';
  return (
    <tr data-testid="summary-row" data-stream={r.stream} data-verdict={verdict} className={selected ? 'selected' : ''} onClick={() => setState({ selectedRun: r.stream })}>
      <th scope="row">
        <div>{r.stream}</div>
        <div className="small muted">
          {runtimeOf(r) !== 'tfjs' && runtimeOf(r) ? `${runtimeOf(r)} ` : ''}
          {r.trace?.header.runtime.backend ?? r.backend} · {r.where}
        </div>
      </th>
      {ocr && (
        <td data-label="text read">
          <DecodedText r={r} />
        </td>
      )}
      {scores && (
        <td data-label="output">
          <Scores r={r} />
        </td>
      )}
      <td data-testid="median-ms" data-label="median latency">
        {fmtMs(t?.medianMs)}
        <div className="small muted">first {fmtMs(t?.firstRunMs)}</div>
      </td>
      <td data-testid="agreement" data-label="output vs reference">{r.role === 'reference' ? <span className="muted">—</span> : topK ? (
          <TopK t={topK} guess={scoresOut?.kind.source === 'guess'} />
        ) : c ? (
          <>
            <span data-testid="outputs-verdict">outputs {c.outputs.verdict}</span>
            <OutputMeasures outs={outs} cardClass={cardClass} />
          </>
        ) : (
          '…'
        )}</td>
      <td data-testid="max-nrmse" data-value={worst ?? ''} data-label="worst nrmse">
        {fmtErr(worst)}
      </td>
      <td data-label="verdict">
        <span className={`badge v-${verdict}`} data-testid="verdict">
          {verdict}
        </span>
      </td>
      <td
        data-testid="first-divergent"
        data-label="first divergent"
        // The reference has no first divergent node: its empty cell is not a way to switch the node table.
        onClick={r.role === 'reference' ? (e) => e.stopPropagation() : undefined}
      >
        {fd ? (
          <>
          <button
            type="button"
            className="link"
            title={fd.reasons.join('; ')}
            onClick={(e) => {
              e.stopPropagation();
              setState({ selectedRun: r.stream, selectedNode: fd.key });
            }}
          >
            {fd.name}
            <span className="small muted"> ({fd.op}, #{fd.edgeIndex ?? fd.position})</span>
          </button>
          <div className="small muted" data-testid="finding-enters">
            error enters here (first node beyond tolerance)
          </div>
          {largest && (
            <div className="small muted" data-testid="finding-largest-own" data-node={largest.node}>
              {largest.node === fd.name ? 'also the largest own error' : <>largest own error: {largest.node}</>} (replayed alone, nrmse {fmtErr(largest.own)})
            </div>
          )}
          </>
        ) : liveFirst ? (
          <span>{liveFirst.name} …</span>
        ) : r.role === 'edge' && c ? (
          <span className="muted">none</span>
        ) : r.role === 'reference' ? (
          <span className="muted" title="the reference is what the other runs are compared with">—</span>
        ) : (
          ''
        )}
      </td>
      <td className="actions" data-label="save">
        {r.trace && (
          <span className="buttons">
            <button type="button" className="button tiny" data-testid="save-exray" onClick={(e) => (e.stopPropagation(), saveRun(r.stream))} title="save this run as a .exray trace">
              .exray
            </button>
            <button type="button" className="button tiny" data-testid="export-perfetto" onClick={(e) => (e.stopPropagation(), exportPerfetto(r.stream))} title="kernel timeline for ui.perfetto.dev">
              Perfetto
            </button>
            {c && (
              <button type="button" className="button tiny" data-testid="export-model-explorer" onClick={(e) => (e.stopPropagation(), exportModelExplorer(r.stream))} title="per-node nrmse as Model Explorer node data">
                Model Explorer
              </button>
            )}
          </span>
        )}
      </td>
    </tr>
  );
}

/** `painted`: the results' first screen has been painted (RunResults): the diagnosis may be computed. */
export function Summary({ painted }: { painted: boolean }): ReactNode {
  const s = useApp();
  const c = s.runs.find((r) => r.comparison)?.comparison;
  const ocr = ctcOutput(s.model?.card ?? null) !== null && s.source === 'live';
  const scores = scoreOutputs(s.model?.card ?? null).length > 0 && s.source === 'live';
  return (
    <section className="panel" data-testid="summary" aria-labelledby="summary-h">
      <h2 id="summary-h">Summary</h2>
      <div className="table-scroll">
        <table className="summary">
          <thead>
            <tr>
              <th>run</th>
              {ocr && <th>text read</th>}
              {scores && <th>output</th>}
              <th>median latency</th>
              <th>output vs reference</th>
              <th>worst nrmse</th>
              <th>verdict</th>
              <th>first divergent node</th>
              <th>files</th>
            </tr>
          </thead>
          <tbody>
            {s.runs.map((r) => (
              <Row key={r.stream} r={r} painted={painted} />
            ))}
          </tbody>
        </table>
      </div>
      {c && (
        <p className="small muted">
          Tolerance {c.tolerance.preset}: nrmse ≤ {fmtErr(c.tolerance.global.nrmse)}, cosine ≥ {c.tolerance.global.cosine ?? '–'}, any |diff| ≤ {fmtErr(c.tolerance.global.atol)} passes. Latency: median of the timed whole-model runs (incl. read-back).
        </p>
      )}
    </section>
  );
}
