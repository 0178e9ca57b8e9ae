/**
 * exray serve's model store, from the page (desktop and phone): the models the server has (its bundled
 * samples and the uploaded ones, `GET /api/models`), loading one of them through the samples' code
 * path with the Bearer token, and uploading the loaded model (a zip, upload-zip.ts) when the
 * server does not have it, so that it can run the reference of a phone session. Outside React, like
 * remote-state.ts.
 */
import { useSyncExternalStore } from 'react';
import { parseModelListings, type ModelListing, type ModelUploadResult } from '../../transport/models-api.ts';
import type { LoadedModel } from '../load/model.ts';
import { loadListedModel, type FetchModelFile } from '../load/samples.ts';
import { selectModelFrom } from '../state/controller.ts';
import { fmtBytes } from '../util/format.ts';
import { api, ApiError, apiJson } from './connection.ts';

export interface ModelUpload {
  sha256: string;
  name: string;
  state: 'checking' | 'uploading' | 'stored' | 'failed';
  /** One line for the page: `uploading model… (3.2 MB)`, `already on the server`, the server's error. */
  text: string;
}

export interface ServerModelsState {
  list: ModelListing[];
  /** The list was fetched at least once. */
  loaded: boolean;
  error: string | null;
  /** The last upload (or check), for the status line. */
  upload: ModelUpload | null;
  version: number;
}

let state: ServerModelsState = { list: [], loaded: false, error: null, upload: null, version: 0 };
const listeners = new Set<() => void>();

function set(patch: Partial<ServerModelsState>): void {
  state = { ...state, ...patch, version: state.version + 1 };
  for (const l of [...listeners]) l();
}

export function getServerModels(): ServerModelsState {
  return state;
}

export function useServerModels(): ServerModelsState {
  return useSyncExternalStore(
    (l) => (listeners.add(l), () => listeners.delete(l)),
    getServerModels,
    getServerModels,
  );
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function refreshServerModels(): Promise<void> {
  try {
    const { models, dropped } = parseModelListings(await apiJson<unknown>('/api/models'));
    set({ list: models, loaded: true, error: dropped > 0 ? `${dropped} models listed by the server could not be read` : null });
  } catch (e) {
    set({ loaded: true, error: `models on the server: ${message(e)}` });
  }
}

let lastUnknownRefresh = 0;

/** A session of a model we do not list (a phone uploaded it): list again, at most every 5 s. */
export function sawModel(sha256: string): void {
  if (!state.loaded || state.list.some((m) => m.sha256 === sha256) || Date.now() - lastUnknownRefresh < 5000) return;
  lastUnknownRefresh = Date.now();
  void refreshServerModels();
}

const fetchWithToken: FetchModelFile = async (url) => (await api(url)).arrayBuffer();

/** Load one of the server's models (its files from `/api/models/<sha256>/<file>`, with the token). */
export async function loadServerModel(sha256: string): Promise<void> {
  const m = state.list.find((x) => x.sha256 === sha256);
  if (!m) return;
  const base = `/api/models/${sha256}/`;
  await selectModelFrom(m.name, `${m.name} (on the server)`, () =>
    loadListedModel({ name: m.name, origin: 'server', format: m.format, card: m.card, files: m.files, bytes: m.bytes, base }, fetchWithToken),
  );
}

/** Shas the server has (answered or stored during this page's life): no need to ask again. */
const known = new Set<string>();

function status(m: LoadedModel, st: ModelUpload['state'], text: string): void {
  set({ upload: { sha256: m.sha256, name: m.name, state: st, text } });
}

/** Does the server have this model (HEAD /api/models/<sha256>)? */
async function serverHas(sha256: string): Promise<boolean> {
  if (known.has(sha256) || state.list.some((x) => x.sha256 === sha256)) return true;
  try {
    await api(`/api/models/${sha256}`, { method: 'HEAD' });
    known.add(sha256);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return false;
    throw e;
  }
}

/**
 * Make sure the server has `m` (upload it when it does not), saying so in `upload`. Resolves true
 * when the server has it; false (with the error shown) when the check or the upload failed.
 */
export async function ensureOnServer(m: LoadedModel, force = false): Promise<boolean> {
  try {
    status(m, 'checking', 'checking whether the server has this model…');
    if (!force && (await serverHas(m.sha256))) {
      status(m, 'stored', 'the server has this model');
      return true;
    }
    const { zipModel } = await import('./upload-zip.ts');
    const zip = zipModel(m);
    status(m, 'uploading', `uploading model… (${fmtBytes(zip.byteLength)})`);
    const res = await api(`/api/models/${m.sha256}?name=${encodeURIComponent(m.name.slice(0, 100))}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/zip' },
      body: new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }),
    });
    const r = (await res.json()) as Partial<ModelUploadResult>;
    known.add(m.sha256);
    status(m, 'stored', r.status === 'stored' ? 'model uploaded: the server runs its reference' : 'the server has this model');
    const listed = parseModelListings([r.model]).models[0];
    if (listed && !state.list.some((x) => x.sha256 === m.sha256)) set({ list: [...state.list, listed] });
    return true;
  } catch (e) {
    status(m, 'failed', `model upload failed: ${message(e)}`);
    return false;
  }
}
