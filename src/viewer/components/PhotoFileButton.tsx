/** A button that picks one photo file and makes it the input (the desktop's input panel and the phone page). */
import type { ReactNode } from 'react';
import { filesFromInput } from '../load/dropped-files.ts';
import { choosePhoto } from '../state/controller.ts';

export function PhotoFileButton({ label }: { label: string }): ReactNode {
  return (
    <label className="button small">
      {label}
      <input
        type="file"
        hidden
        accept="image/*"
        data-testid="photo-file-input"
        onChange={(e) => {
          const f = filesFromInput(e.target.files)[0];
          if (f) choosePhoto(f.file, f.path);
          e.target.value = '';
        }}
      />
    </label>
  );
}
