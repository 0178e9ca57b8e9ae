/**
 * What the page knows about `exray serve`, outside React like state/store.ts: who we are, the live
 * session and device lists, the pairing URL, the server's results per session. `initRemote()` runs
 * once from main.tsx; without exray serve it ends at `detection: 'none'` and nothing else happens.
 */
import { useSyncExternalStore } from 'react';
import type { DeviceInfo, ServerMessage, SessionInfo } from '../../transport/wire.ts';
import { download, safeName } from '../util/download.ts';
import { api, apiBytes, apiJson, detect, phoneRequested, setApiToken, type Identity } from './connection.ts';
import { ViewerSocket, type ViewerLink } from './viewer-socket.ts';
import { onWatchedBinary, onWatchedMessage, rewatch, watchedSession, closeRemoteSession } from './open-session.ts';
import { startPhoneLink } from './phone-runs.ts';
import { refreshServerModels, sawModel } from './server-models.ts';

export interface ServerResult {
  verdict: 'ok' | 'diverged' | null;
  firstDivergent: string | null;
  cause: string | null;
  /** The server's Diagnosis (src/diagnose), as JSON. */
  diagnosis: unknown;
}

export interface RemoteState {
  detection: 'detecting' | 'none' | 'remote' | 'unpaired';
  identity: Identity | null;
  /** Phone layout: `?phone`, a paired device, or a phone that must pair first. */
  phone: boolean;
  problem: string | null;
  link: ViewerLink | null;
  sessions: SessionInfo[];
  devices: DeviceInfo[];
  pairing: { url: string; lanUrls: string[]; qrSvg: string | null } | null;
  referenceBackend: 'cpu' | 'wasm' | null;
  results: Record<string, ServerResult>;
  /** Last failed action (revoke, delete, download…), shown in the Phones panel. */
  error: string | null;
  /** The agent line for the user's own app (`GET /api/agent`). */
  agent: { line: string; scriptUrls: string[] } | null;
  /** What the last "capture the next inference" reached. */
  captureNote: string | null;
  version: number;
}

let state: RemoteState = {
  detection: 'detecting',
  identity: null,
  phone: phoneRequested(),
  problem: null,
  link: null,
  sessions: [],
  devices: [],
  pairing: null,
  referenceBackend: null,
  results: {},
  error: null,
  agent: null,
  captureNote: null,
  version: 0,
};

const listeners = new Set<() => void>();

export function getRemote(): RemoteState {
  return state;
}

export function setRemote(patch: Partial<RemoteState>): void {
  state = { ...state, ...patch, version: state.version + 1 };
  for (const l of [...listeners]) l();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useRemote(): RemoteState {
  return useSyncExternalStore(subscribe, getRemote, getRemote);
}

let socket: ViewerSocket | null = null;
let started = false;

/** Once per page (StrictMode-safe: not tied to a component). */
export function initRemote(): void {
  if (started || typeof location === 'undefined') return;
  started = true;
  void detect().then(
    (d) => {
      if (d.kind === 'none') return setRemote({ detection: 'none' });
      if (d.kind === 'unpaired') return setRemote({ detection: 'unpaired', phone: true, problem: d.problem });
      setApiToken(d.identity.token);
      const phone = state.phone || d.identity.role === 'device';
      setRemote({ detection: 'remote', identity: d.identity, phone });
      if (phone) startPhoneLink(d.identity);
      else startDesktop(d.identity);
      void refreshServerModels();
    },
    (e: unknown) => setRemote({ detection: 'none', problem: e instanceof Error ? e.message : String(e) }),
  );
}

function startDesktop(id: Identity): void {
  void refreshPairing();
  apiJson<{ line: string; scriptUrls: string[] }>('/api/agent').then(
    (a) => setRemote({ agent: { line: a.line, scriptUrls: a.scriptUrls } }),
    () => {},
  );
  apiJson<{ backend: 'cpu' | 'wasm' }>('/api/reference').then(
    (r) => setRemote({ referenceBackend: r.backend }),
    () => {},
  );
  socket = new ViewerSocket(id.token, {
    link: (link) => setRemote({ link }),
    ready: () => rewatch(),
    message: onMessage,
    binary: onWatchedBinary,
  });
}

export function viewerSend(m: Parameters<ViewerSocket['send']>[0]): void {
  socket?.send(m);
}

function byNewest(a: SessionInfo, b: SessionInfo): number {
  return b.createdAt.localeCompare(a.createdAt);
}

function onMessage(m: ServerMessage): void {
  switch (m.t) {
    case 'sessions':
      return setRemote({ sessions: [...m.list].sort(byNewest) });
    case 'session':
      sawModel(m.info.model.sha256);
      onWatchedMessage(m);
      return setRemote({ sessions: [m.info, ...state.sessions.filter((s) => s.id !== m.info.id)].sort(byNewest) });
    case 'removed':
      if (watchedSession() === m.session) closeRemoteSession(false); // nothing left to unwatch
      return setRemote({ sessions: state.sessions.filter((s) => s.id !== m.session) });
    case 'devices':
      return setRemote({ devices: m.list });
    case 'pairing':
      if (state.pairing?.url !== m.url) {
        setRemote({ pairing: { url: m.url, lanUrls: m.lanUrls, qrSvg: null } });
        void refreshPairing();
      }
      return;
    case 'compared':
      setResult(m.session, { verdict: m.verdict, firstDivergent: m.firstDivergent });
      return onWatchedMessage(m);
    case 'diagnosis':
      setResult(m.session, { cause: m.cause, diagnosis: m.diagnosis });
      return onWatchedMessage(m);
    case 'capture':
      return setRemote({ captureNote: m.delivered > 0 ? `asked ${m.delivered === 1 ? 'the app' : `${m.delivered} connections`} to capture its next inference` : 'no app with the agent is connected' });
    default:
      return onWatchedMessage(m);
  }
}

function setResult(session: string, patch: Partial<ServerResult>): void {
  const old = state.results[session] ?? { verdict: null, firstDivergent: null, cause: null, diagnosis: null };
  setRemote({ results: { ...state.results, [session]: { ...old, ...patch } } });
}

/** The server's result for a session: from `compared` / `diagnosis` when watched, else its SessionInfo. */
export function resultOf(info: SessionInfo): ServerResult {
  const r = state.results[info.id];
  return { verdict: r?.verdict ?? info.verdict, firstDivergent: r?.firstDivergent ?? info.firstDivergent, cause: r?.cause ?? info.cause, diagnosis: r?.diagnosis ?? null };
}

// ---- desktop actions -----------------------------------------------------------------------------

async function action(what: string, f: () => Promise<void>): Promise<void> {
  try {
    await f();
    if (state.error) setRemote({ error: null });
  } catch (e) {
    setRemote({ error: `${what}: ${e instanceof Error ? e.message : String(e)}` });
  }
}

export function refreshPairing(): Promise<void> {
  return action('pairing', async () => {
    const p = await apiJson<{ url: string; lanUrls: string[]; qrSvg: string }>('/api/pairing');
    setRemote({ pairing: { url: p.url, lanUrls: p.lanUrls, qrSvg: p.qrSvg } });
  });
}

export function revokeDevice(id: string): Promise<void> {
  return action('revoke', async () => {
    await api(`/api/devices/${encodeURIComponent(id)}`, { method: 'DELETE' });
    setRemote({ devices: state.devices.filter((d) => d.id !== id) });
  });
}

export function deleteSession(id: string): Promise<void> {
  return action('delete', async () => {
    await api(`/api/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (watchedSession() === id) closeRemoteSession(false);
    setRemote({ sessions: state.sessions.filter((s) => s.id !== id) });
  });
}

export function downloadSession(info: SessionInfo): Promise<void> {
  return action('download', async () => {
    const bytes = await apiBytes(`/api/sessions/${encodeURIComponent(info.id)}/trace`);
    download(bytes, `${safeName(`${info.model.name}-${info.device}-${info.label}-${info.id}`)}.exray`, 'application/zip');
  });
}

/** Ask the connected agent(s) to capture their app's next inference. */
export function captureNext(device: string): void {
  setRemote({ captureNote: 'asking…' });
  viewerSend({ t: 'capture', device });
}

export function setReferenceBackend(backend: 'cpu' | 'wasm'): Promise<void> {
  return action('reference backend', async () => {
    await api('/api/reference', { method: 'POST', body: JSON.stringify({ backend }) });
    setRemote({ referenceBackend: backend });
  });
}
