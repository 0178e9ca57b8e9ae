/** Open `.exray` traces (one to view, two or more to compare). Saving and exports are per run (Summary). */
import type { ReactNode } from 'react';
import { filesFromInput } from '../load/dropped-files.ts';
import { openTraces } from '../state/opening.ts';
import { DropZone } from './DropZone.tsx';

/** Traces are read by the trace readers (workers); the replay's chunk loads when they are opened, not with the page. */
function openTraceFiles(files: File[]): void {
  void openTraces(files);
}

export function FilesBar(): ReactNode {
  return (
    <DropZone testId="trace-drop" label="drop .exray files here" onFiles={(files) => openTraceFiles(files.map((f) => f.file))}>
      <label className="button small">
        Open .exray
        <input
          type="file"
          multiple
          hidden
          accept=".exray"
          data-testid="open-exray-input"
          onChange={(e) => {
            openTraceFiles(filesFromInput(e.target.files).map((f) => f.file));
            e.target.value = '';
          }}
        />
      </label>
      <span className="small muted drop-hint">or drop one (view) or two (compare)</span>
    </DropZone>
  );
}
