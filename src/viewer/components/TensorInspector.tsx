/** One node output: edge vs reference vs difference, per channel as heatmaps, histograms and statistics. */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { BlobData, TensorRecord, TensorStats } from '../../trace/types.ts';
import type { RunState } from '../state/run-state.ts';
import { referenceRun } from '../state/session.ts';
import { useApp } from '../state/store.ts';
import { fmtErr, fmtShape, fmtVal } from '../util/format.ts';
import { channelRange, drawHistogram, drawPlane, histogram, planesOf, type ColorMap, type Planes } from '../util/heatmap.ts';

interface Side {
  rec: TensorRecord;
  data: BlobData | null;
}

/** `name` or `name#2` (the comparison's key for the second node of that name). */
function findOutput(run: RunState | undefined, key: string, k: number): Side | null {
  const m = /^(.*)#(\d+)$/.exec(key);
  const name = m ? m[1]! : key;
  const nth = m ? Number(m[2]) - 1 : 0;
  const node = run?.nodes.filter((n) => n.name === name).sort((a, b) => a.index - b.index)[nth];
  const rec = node?.outputs[k];
  if (!run || !rec) return null;
  return { rec, data: rec.blob ? (run.blobs.get(rec.blob.id) ?? null) : null };
}

function Plane(props: { title: string; planes: Planes; channel: number; value: (i: number) => number; lo: number; hi: number; map: ColorMap; count: number; testId: string }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const { planes, channel, value, lo, hi, map, count } = props;
  useEffect(() => {
    if (ref.current) drawPlane(ref.current, planes, channel, value, lo, hi, map, count);
  }, [planes, channel, value, lo, hi, map, count]);
  return (
    <figure className="plane">
      <canvas ref={ref} data-testid={props.testId} />
      <figcaption className="small">
        {props.title} <span className="muted">[{fmtVal(lo)} … {fmtVal(hi)}]</span>
      </figcaption>
    </figure>
  );
}

function Histogram(props: { counts: readonly number[]; min: number; max: number; color: string; title: string }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current) drawHistogram(ref.current, props.counts, props.color);
  }, [props.counts, props.color]);
  return (
    <figure className="hist">
      <canvas ref={ref} />
      <figcaption className="small">
        {props.title} <span className="muted">{fmtVal(props.min)} … {fmtVal(props.max)} (log count)</span>
      </figcaption>
    </figure>
  );
}

const STAT_ROWS: [keyof TensorStats, string][] = [
  ['min', 'min'],
  ['max', 'max'],
  ['mean', 'mean'],
  ['std', 'std'],
  ['zeroCount', 'zeros'],
  ['nanCount', 'NaN'],
  ['infCount', '±Inf'],
];

export function TensorInspector(): ReactNode {
  const s = useApp();
  const ref = referenceRun();
  const run = s.runs.find((r) => r.stream === s.selectedRun) ?? s.runs.find((r) => r.role === 'edge');
  const [channel, setChannel] = useState(0);
  const key = s.selectedNode;
  const sep = key ? key.lastIndexOf(':') : -1;
  const name = key && sep > 0 ? key.slice(0, sep) : (key ?? '');
  const k = key && sep > 0 ? Number(key.slice(sep + 1)) || 0 : 0;
  const edge = key ? findOutput(run, name, k) : null;
  const other = key && ref && run !== ref ? findOutput(ref, name, k) : null;
  const cmp = run?.comparison?.nodes.find((n) => n.key === key) ?? run?.comparison?.nodes.find((n) => n.name === name && n.outputIndex === k) ?? null;
  // How this node's values were recorded, when not plainly (an ONNX control-flow body's node).
  const note = run?.nodes.find((n) => n.name === name.replace(/#\d+$/, ''))?.note;
  const planes = useMemo(() => (edge ? planesOf(edge.rec.shape) : null), [edge?.rec]);
  const e = edge?.data ?? null;
  const r = other?.data && e && other.data.length === e.length ? other.data : null;
  const count = e?.length ?? 0;
  const ch = Math.min(channel, (planes?.channels ?? 1) - 1);
  const views = useMemo(() => {
    if (!planes || !e) return null;
    const ev = (i: number): number => e[i]!;
    const rv = r ? (i: number): number => r[i]! : null;
    const dv = r ? (i: number): number => e[i]! - r[i]! : null;
    const [a0, a1] = channelRange(planes, ch, ev, count);
    const [b0, b1] = rv ? channelRange(planes, ch, rv, count) : [a0, a1];
    const [d0, d1] = dv ? channelRange(planes, ch, dv, count) : [0, 0];
    const dmax = Math.max(Math.abs(d0), Math.abs(d1)) || 1e-12;
    return { ev, rv, dv, lo: Math.min(a0, b0), hi: Math.max(a1, b1), dmax, diffHist: dv ? histogram(dv, count) : null };
  }, [planes, e, r, ch, count]);
  if (!key) {
    return (
      <section className="panel" data-testid="tensor-inspector" aria-labelledby="insp-h">
        <h2 id="insp-h">Tensor inspector</h2>
        <p className="muted">Click a node in the table or the chart to compare its output with the reference.</p>
      </section>
    );
  }
  const m = cmp?.metrics ?? null;
  return (
    <section className="panel" data-testid="tensor-inspector" aria-labelledby="insp-h">
      <h2 id="insp-h">
        Tensor inspector <span className="muted small">{run?.stream}</span>
      </h2>
      <p>
        <strong data-testid="inspected-node">{name}</strong>
        {k > 0 ? `:${k}` : ''} <span className="muted">{cmp?.op ?? run?.nodes.find((n) => n.name === name)?.op}</span> {fmtShape(edge?.rec.shape)}
        {cmp && (
          <span className={`badge v-${cmp.verdict}`} title={cmp.reasons.join('; ')}>
            {cmp.verdict}
          </span>
        )}
      </p>
      {cmp?.reasons.length ? <p className="small muted">{cmp.reasons.join('; ')}</p> : null}
      {note && (
        <p className="small muted" data-testid="node-note">
          {note}
        </p>
      )}
      {!edge && <p className="muted">This run has no output {key}.</p>}
      {edge && !e && <p className="muted">No tensor values in this trace (capture mode “{run?.trace?.header.capture ?? run?.start?.capture}”): statistics only.</p>}
      {planes && views && (
        <>
          {planes.channels > 1 && (
            <label className="field inline">
              <span>Channel</span>
              <input type="range" min={0} max={planes.channels - 1} value={ch} onChange={(ev) => setChannel(Number(ev.target.value))} data-testid="channel-slider" />
              <span className="small">
                {ch} / {planes.channels - 1} ({planes.height}×{planes.width})
              </span>
            </label>
          )}
          <div className="planes">
            <Plane title={run?.stream ?? 'edge'} testId="heatmap-edge" planes={planes} channel={ch} value={views.ev} lo={views.lo} hi={views.hi} map="sequential" count={count} />
            {views.rv && <Plane title="reference" testId="heatmap-ref" planes={planes} channel={ch} value={views.rv} lo={views.lo} hi={views.hi} map="sequential" count={count} />}
            {views.dv && <Plane title="edge − reference" testId="heatmap-diff" planes={planes} channel={ch} value={views.dv} lo={-views.dmax} hi={views.dmax} map="diverging" count={count} />}
          </div>
        </>
      )}
      <div className="hists">
        {edge?.rec.stats && <Histogram title={run?.stream ?? 'edge'} counts={edge.rec.stats.histogram.counts} min={edge.rec.stats.histogram.min} max={edge.rec.stats.histogram.max} color="#1f6feb" />}
        {other?.rec.stats && <Histogram title="reference" counts={other.rec.stats.histogram.counts} min={other.rec.stats.histogram.min} max={other.rec.stats.histogram.max} color="#6e7781" />}
        {views?.diffHist && <Histogram title="difference" counts={views.diffHist.counts} min={views.diffHist.min} max={views.diffHist.max} color="#cf222e" />}
      </div>
      <div className="table-scroll">
        <table className="stats" data-testid="tensor-stats">
          <thead>
            <tr>
              <th />
              <th>{run?.stream}</th>
              {other && <th>reference</th>}
            </tr>
          </thead>
          <tbody>
            {STAT_ROWS.map(([f, label]) => (
              <tr key={f}>
                <th scope="row">{label}</th>
                <td>{fmtVal(edge?.rec.stats?.[f] as number | undefined)}</td>
                {other && <td>{fmtVal(other.rec.stats?.[f] as number | undefined)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
        {m && (
          <table className="stats" data-testid="tensor-metrics">
            <tbody>
              <tr><th scope="row">nrmse</th><td>{fmtErr(m.nrmse)}</td></tr>
              <tr><th scope="row">max |Δ|</th><td>{fmtErr(m.maxAbs)}{m.maxAbsIndex !== null ? ` at element ${m.maxAbsIndex}` : ''}</td></tr>
              <tr><th scope="row">mean |Δ|</th><td>{fmtErr(m.meanAbs)}</td></tr>
              <tr><th scope="row">cosine</th><td>{m.cosine.toFixed(7)}</td></tr>
              <tr><th scope="row">SQNR</th><td>{m.sqnrDb === null ? (m.identical ? '∞' : '−∞') : `${m.sqnrDb.toFixed(1)} dB`}</td></tr>
              <tr><th scope="row">NaN / Inf mismatches</th><td>{m.nanMismatch} / {m.infMismatch}</td></tr>
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
