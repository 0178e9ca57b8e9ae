/**
 * Issue 12 item 11: the results are long (a 4-backend run is several screens), so a sticky index at
 * the top of the results column names every panel and scrolls to it; panels that are not on the page
 * (no timing, no diagnosis yet) are left out. The panels' own test ids are the anchors.
 */
import { useLayoutEffect, useState, type ReactNode } from 'react';

export const RESULT_SECTIONS: readonly (readonly [testId: string, label: string])[] = [
  ['summary', 'Summary'],
  ['error-chart', 'Error chart'],
  ['node-table', 'Nodes'],
  ['tensor-inspector', 'Inspector'],
  ['assertions-panel', 'Assertions'],
  ['diagnosis-panel', 'Diagnosis'],
  ['latency-guidance', 'Latency guidance'],
  ['latency-panel', 'Latency per node'],
  ['environment-panel', 'Environment'],
];

function panel(testId: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`.results [data-testid="${testId}"]`);
}

export function ResultsIndex({ revision }: { revision: unknown }): ReactNode {
  const [present, setPresent] = useState<string>('');
  // After every render of the results: which panels exist (a string, so an unchanged set does not re-render).
  useLayoutEffect(() => {
    const now = RESULT_SECTIONS.filter(([id]) => panel(id) !== null)
      .map(([id]) => id)
      .join(' ');
    setPresent((p) => (p === now ? p : now));
  }, [revision]);
  const shown = RESULT_SECTIONS.filter(([id]) => present.split(' ').includes(id));
  return (
    <nav className="results-index" data-testid="results-index" aria-label="results sections">
      {shown.map(([id, label]) => (
        <button key={id} type="button" className="link" data-testid="results-index-link" data-target={id} onClick={() => panel(id)?.scrollIntoView({ block: 'start', behavior: 'smooth' })}>
          {label}
        </button>
      ))}
    </nav>
  );
}
