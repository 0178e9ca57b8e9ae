/**
 * Running on the phone: no local reference (the server runs it). Each selected backend runs as on the
 * plain page, in a fresh trace worker (runJobInWorker), and its events go two ways: folded locally for
 * a compact summary (phone-summary.ts) and streamed to exray serve as a session (SocketProducer).
 *
 * Between backends the next job waits for `whenWritable()`: the socket has taken every queued frame and
 * the resend buffer is at most half full, so one slow upload does not pile up several runs' tensors
 * (and the upload does not compete with the next run's timing). Within a run nothing can wait (see
 * transport/socket.ts): a run that overflows the buffer fails its session with the reason.
 */
import { useSyncExternalStore } from 'react';
import { SocketProducer, type LinkStatus, type SessionOutcome } from '../../transport/socket.ts';
import { wsUrl } from '../../transport/reconnect.ts';
import { SHA256_PATTERN, WIRE_PATH, type RunMeta } from '../../transport/wire.ts';
import { cardClassifierOutputs, cardLabels, hasImageInput } from '../load/model.ts';
import { runInput } from '../load/tensor-inputs.ts';
import { payloadOf } from '../state/reference-model.ts';
import { canRun, runName } from '../state/runs.ts';
import { getState, setState } from '../state/store.ts';
import { runJobInWorker, runJobOnMainThread, type JobHandle } from '../worker/client.ts';
import type { BackendName, RunJob } from '../worker/protocol.ts';
import { forgetDevice, type Identity } from './connection.ts';
import { fail, foldPhoneEvent, newPhoneRun, type PhoneRun } from './phone-summary.ts';
import { setRemote } from './remote-state.ts';
import { ensureOnServer } from './server-models.ts';
import { describeUserAgent } from './user-agent.ts';

export interface PhoneState {
  link: LinkStatus | null;
  runs: PhoneRun[];
  running: boolean;
  /** The job is waiting for the link to drain before the next backend. */
  waiting: boolean;
  version: number;
}

let state: PhoneState = { link: null, runs: [], running: false, waiting: false, version: 0 };
const listeners = new Set<() => void>();
let scheduled: ReturnType<typeof setTimeout> | null = null;

/** Render soon: acks and events arrive by the hundred, the phone needs a few frames a second. */
function changed(patch: Partial<PhoneState> = {}, now = false): void {
  state = { ...state, ...patch, version: state.version + 1 };
  if (now && scheduled !== null) {
    clearTimeout(scheduled);
    scheduled = null;
  }
  const flush = (): void => {
    scheduled = null;
    for (const l of [...listeners]) l();
  };
  if (now) flush();
  else scheduled ??= setTimeout(flush, 100);
}

export function getPhone(): PhoneState {
  return state;
}

export function usePhone(): PhoneState {
  return useSyncExternalStore(
    (l) => (listeners.add(l), () => listeners.delete(l)),
    getPhone,
    getPhone,
  );
}

let producer: SocketProducer | null = null;

/** Connect the producer at once, so the phone shows its link state before the first run. */
export function startPhoneLink(id: Identity): void {
  if (producer) return;
  producer = new SocketProducer({
    url: wsUrl(WIRE_PATH),
    token: id.token,
    onStatus: (link) => {
      if (link.final && /unpaired/.test(link.reason ?? '')) {
        forgetDevice();
        setRemote({ problem: link.reason });
      }
      changed({ link }, link.state !== state.link?.state);
    },
  });
}

let current: JobHandle | null = null;
let cancelled = false;
/** Ends the wait for the link (Cancel while the previous run's upload drains). */
let stopWaiting: (() => void) | null = null;

function runMeta(stream: string, backend: BackendName, photo: Blob | null, photoName: string | null): RunMeta | string {
  const s = getState();
  const m = s.model!;
  if (!SHA256_PATTERN.test(m.sha256)) return 'the model has no sha256: not streamed';
  return {
    model: { name: m.name.slice(0, 200), sha256: m.sha256, format: m.format },
    label: stream.slice(0, 100),
    backend: backend.slice(0, 40),
    capture: s.capture,
    device: { userAgent: navigator.userAgent.slice(0, 1000), name: describeUserAgent(navigator.userAgent).slice(0, 100) },
    photo: photo && photoName ? { fileName: photoName.slice(-255), mimeType: (photo.type || 'application/octet-stream').slice(0, 100), bytes: photo.size } : undefined,
    precision: s.capture === 'tensors' && s.linkPrecision !== 'float32' ? s.linkPrecision : undefined,
  };
}

function sessionDone(run: PhoneRun, o: SessionOutcome): void {
  run.session = { id: o.session, status: o.status === 'done' ? 'sent' : o.status, reason: o.reason ?? (o.warnings.join('; ') || null) };
  if (run.status === 'uploading') {
    run.status = 'done';
    run.phase = 'done';
  }
  run.rev++;
  changed({}, true);
}

const forceMain = typeof location !== 'undefined' && new URLSearchParams(location.search).get('thread') === 'main';

export async function startPhoneRuns(): Promise<void> {
  const why = canRun();
  if (why) return setState({ notice: why });
  const s = getState();
  const model = s.model!;
  const payload = payloadOf(model);
  const image = hasImageInput(model);
  const input = runInput(model, image ? s.input : null, s.tensors);
  const photo = image && s.photo ? s.photo : null;
  const photoBytes = photo ? new Uint8Array(await photo.blob.arrayBuffer()) : undefined;
  const classifier = cardClassifierOutputs(model.card);
  const labels = cardLabels(model.card);
  const jobs = s.selected.map((b) => ({ backend: b, run: newPhoneRun(runName(b, s.options), b) }));
  cancelled = false;
  setState({ running: true, notice: null });
  changed({ runs: jobs.map((j) => j.run), running: true }, true);
  // A model the server does not have (the user's files): upload it first, so it runs the reference.
  if (producer && model.origin === 'files' && SHA256_PATTERN.test(model.sha256)) await ensureOnServer(model);
  for (const { backend, run } of jobs) {
    if (cancelled) {
      fail(run, 'cancelled');
      continue;
    }
    if (producer?.congested) {
      changed({ waiting: true }, true);
      await Promise.race([producer.whenWritable(), new Promise<void>((resolve) => (stopWaiting = resolve))]);
      stopWaiting = null;
      changed({ waiting: false }, true);
      if (cancelled) {
        fail(run, 'cancelled');
        continue;
      }
    }
    const meta = runMeta(run.stream, backend, photo?.blob ?? null, photo?.name ?? null);
    const link = producer && typeof meta !== 'string' ? producer : null;
    if (link && typeof meta !== 'string') {
      run.session = { id: null, status: 'opening', reason: null };
      link.begin(meta, photoBytes).then(
        (id) => {
          run.session = { id, status: 'streaming', reason: null };
          changed();
        },
        () => {}, // end() reports the refusal
      );
    } else run.session = { id: null, status: 'local', reason: typeof meta === 'string' ? meta : 'not connected to exray serve' };
    run.status = 'starting';
    run.phase = 'starting';
    changed({}, true);
    const job: RunJob = { stream: run.stream, backend, options: s.options, label: run.stream, capture: s.capture, runs: s.timedRuns, warmup: 1 };
    const probe = s.backends?.find((p) => p.name === backend);
    const start = forceMain || probe?.where === 'main' ? runJobOnMainThread : runJobInWorker;
    current = start(
      payload,
      input,
      job,
      (t) =>
        t.subscribe((m) => {
          foldPhoneEvent(run, m.event, classifier, labels);
          link?.send(m);
          changed();
        }),
      (phase) => {
        run.phase = phase;
        run.rev++;
        changed();
      },
    );
    try {
      await current.done;
    } catch (e) {
      fail(run, e instanceof Error ? e.message : String(e));
    }
    current = null;
    if (link) {
      // A run that died without run-error (worker crash, cancel) still ends its session; ignored otherwise.
      link.send({ stream: run.stream, event: { type: 'run-error', message: run.error ?? 'the run ended without run-end' } });
      void link.end().then((o) => sessionDone(run, o));
    }
    changed({}, true);
  }
  setState({ running: false });
  changed({ running: false }, true);
}

export function cancelPhoneRuns(): void {
  cancelled = true;
  current?.cancel();
  stopWaiting?.();
  for (const r of state.runs) if (r.status !== 'done' && r.status !== 'failed') fail(r, 'cancelled');
  changed({}, true);
}
