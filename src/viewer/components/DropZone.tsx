/** A region that accepts dropped files and folders. */
import { useState, type ReactNode } from 'react';
import { filesFromDataTransfer, type PickedFile } from '../load/dropped-files.ts';

export function DropZone(props: { testId: string; onFiles: (files: PickedFile[]) => void; children: ReactNode; label: string }): ReactNode {
  const [over, setOver] = useState(false);
  return (
    <div
      className={`dropzone${over ? ' over' : ''}`}
      data-testid={props.testId}
      aria-label={props.label}
      onDragOver={(e) => {
        e.preventDefault();
        e.stopPropagation();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        e.stopPropagation();
        setOver(false);
        // Items are readable only during the event: collect them now, read them after.
        void filesFromDataTransfer(e.dataTransfer).then(props.onFiles);
      }}
    >
      {props.children}
    </div>
  );
}
