/**
 * What the hub does with the desktop reference's reports on a session (reference.ts): its events and
 * metrics to the session's viewers, the comparison and the diagnosis to the store and the desktops.
 */
import type { ReferenceListener } from './reference.ts';
import type { SessionStore } from './store.ts';
import { sendEvent } from './hub-state.ts';
import type { ProducerSessions } from './hub-sessions.ts';

export function referenceListenerOf(sessions: ProducerSessions, store: SessionStore): ReferenceListener {
  return {
    refEvent: (session, event) => {
      const s = sessions.get(session);
      if (!s) return;
      s.refEvents.push(event);
      for (const w of s.watchers) sendEvent(w, session, 'reference', event);
    },
    metrics: (session, items) => {
      const s = sessions.get(session);
      if (!s) return;
      s.metrics.push(...items);
      sessions.toWatchers(s, { t: 'metrics', session, items });
    },
    compared: (session, r) => {
      const s = sessions.get(session);
      void store.putJson(session, 'compare', r.comparison).catch((e: unknown) => sessions.log(`${session}: compare.json: ${String(e)}`));
      void sessions.updateInfo(session, { verdict: r.verdict, firstDivergent: r.firstDivergent });
      if (s) sessions.toWatchers(s, { t: 'compared', session, verdict: r.verdict, firstDivergent: r.firstDivergent, comparison: r.comparison });
    },
    diagnosis: (session, r) => {
      const s = sessions.get(session);
      void store.putJson(session, 'diagnosis', r.diagnosis).catch((e: unknown) => sessions.log(`${session}: diagnosis.json: ${String(e)}`));
      void sessions.updateInfo(session, { cause: r.cause });
      if (s) sessions.toWatchers(s, { t: 'diagnosis', session, cause: r.cause, diagnosis: r.diagnosis });
    },
    released: (session) => {
      // The reference service's last word on a session, whatever happened: it holds nothing of it now.
      const s = sessions.get(session);
      if (!s) return;
      s.referenced = false;
      sessions.release(s);
    },
    referenceTrace: (session, trace) => {
      void store.putReference(session, trace).catch((e: unknown) => sessions.log(`${session}: reference.exray: ${String(e)}`));
    },
    note: (session, text) => {
      void sessions.updateInfo(session, { referenceNote: text });
    },
  };
}
