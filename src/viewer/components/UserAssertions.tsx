/**
 * Your own assertions (state/user-assertions.ts): JavaScript in the CLI's shape, run with the built-ins
 * over every finished run, kept in this browser (localStorage).
 */
import { useState, type ReactNode } from 'react';
import { EXAMPLE_ASSERTION, setUserAssertions, userAssertions } from '../state/user-assertions.ts';
import { useApp } from '../state/store.ts';

export function UserAssertionsEditor(): ReactNode {
  useApp();
  const u = userAssertions();
  const [text, setText] = useState<string | null>(null);
  const value = text ?? u.source;
  return (
    <details className="user-assertions" data-testid="user-assertions" open={u.source !== '' || undefined}>
      <summary>
        Your assertions{' '}
        <span className="small muted">
          {u.source === '' ? '(none)' : u.error ? '(not loaded: see the failed user-assertions line)' : `(${u.assertions.length} loaded)`}
        </span>
      </summary>
      <p className="small muted">
        JavaScript (no TypeScript), as for <code>exray diagnose --assertions</code>: <code>export default defineAssertion({'{ id, description, check }'})</code>, where{' '}
        <code>check(trace, ctx)</code> returns <code>{'{ ok, detail }'}</code>, a boolean or <code>null</code> (not applicable). <code>defineAssertion</code>,{' '}
        <code>tensorValues</code> and <code>specValueRange</code> are in scope; import lines are ignored. It runs as a module of this page, over every finished run; an
        error is a failed assertion. Kept in this browser.
      </p>
      <textarea
        data-testid="user-assertions-text"
        rows={10}
        spellCheck={false}
        value={value}
        placeholder={EXAMPLE_ASSERTION}
        onChange={(e) => setText(e.target.value)}
      />
      <div className="row">
        <button type="button" className="button small" data-testid="user-assertions-apply" disabled={u.busy} onClick={() => void setUserAssertions(value)}>
          Apply
        </button>
        <button type="button" className="button small" onClick={() => setText(EXAMPLE_ASSERTION)}>
          Example
        </button>
        <button
          type="button"
          className="button small"
          data-testid="user-assertions-clear"
          onClick={() => {
            setText('');
            void setUserAssertions('');
          }}
        >
          Clear
        </button>
        {u.error && (
          <span className="small bad" data-testid="user-assertions-error">
            {u.error}
          </span>
        )}
      </div>
    </details>
  );
}
