/** Step 2: a photo — dropped, picked, a bundled sample or one camera frame — and what the model sees. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { PhotoFileButton } from './PhotoFileButton.tsx';
import { choosePhoto, chooseSamplePhoto } from '../state/controller.ts';
import { useApp } from '../state/store.ts';
import { fmtShape } from '../util/format.ts';
import { inputToImageData } from '../util/tensor-image.ts';
import { Camera } from './Camera.tsx';
import { DropZone } from './DropZone.tsx';
import { RecordedInputs, TensorInputs } from './TensorInputs.tsx';
import { hasImageInput } from '../load/model.ts';

function ModelView(): ReactNode {
  const s = useApp();
  const ref = useRef<HTMLCanvasElement>(null);
  const input = s.input;
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || !input) return;
    const img = inputToImageData(input.data, input.shape, input.preprocess);
    canvas.width = img.width;
    canvas.height = img.height;
    canvas.getContext('2d')?.putImageData(img, 0, 0);
  }, [input]);
  if (!input) return null;
  const src = input.source;
  return (
    <figure className="model-view">
      <canvas ref={ref} data-testid="input-preview" aria-label="the input as the model sees it" />
      <figcaption className="small muted">
        as the model sees it: {fmtShape(input.shape)} {input.dtype}
        <br />
        from {src.fileName} {src.width}×{src.height}
        {src.exifOrientation !== 1 ? `, EXIF orientation ${src.exifOrientation}` : ''}
        {src.iccProfile ? `, ICC profile ${src.iccProfile}` : ''}
      </figcaption>
    </figure>
  );
}

/** The chosen photo; one the browser cannot show is left out (the input error says why), not a broken-image icon. */
function PhotoThumb({ url, name }: { url: string; name: string }): ReactNode {
  const [broken, setBroken] = useState<string | null>(null);
  if (broken === url) return null;
  return (
    <figure>
      <img src={url} alt={name} className="photo" data-testid="photo" onError={() => setBroken(url)} />
      <figcaption className="small muted">{name}</figcaption>
    </figure>
  );
}

export function InputPanel(): ReactNode {
  const s = useApp();
  if (s.model && !hasImageInput(s.model)) {
    // No photo: every input is a tensor (audio frames, state, sample rate).
    return (
      <section className="panel" data-testid="input-panel" aria-labelledby="input-h">
        <h2 id="input-h">
          <span className="step">2</span> Input
        </h2>
        <TensorInputs />
        <RecordedInputs />
      </section>
    );
  }
  return (
    <section className="panel" data-testid="input-panel" aria-labelledby="input-h">
      <h2 id="input-h">
        <span className="step">2</span> Input
      </h2>
      <label className="field">
        <span>Sample photo</span>
        <select
          data-testid="sample-photo-select"
          value={s.photo && s.index?.photos.includes(s.photo.name) ? s.photo.name : ''}
          disabled={s.running}
          onChange={(e) => e.target.value && void chooseSamplePhoto(e.target.value)}
        >
          <option value="">choose a photo…</option>
          {s.index?.photos.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <DropZone
        testId="photo-drop"
        label="drop a photo here"
        onFiles={(files) => {
          const f = files[0];
          if (f) choosePhoto(f.file, f.path);
        }}
      >
        <p>Drop a photo, or</p>
        <div className="row">
          <PhotoFileButton label="Pick a photo" />
          <Camera />
        </div>
      </DropZone>
      {s.inputError && (
        <p className="errors" role="alert" data-testid="input-error">
          {s.inputError}
        </p>
      )}
      <div className="input-views">
        {s.photo && <PhotoThumb url={s.photo.url} name={s.photo.name} />}
        {s.inputBusy ? <p className="muted">pre-processing…</p> : <ModelView />}
      </div>
      {!s.model && s.photo && <p className="small muted">Load a model to see the photo as the model sees it.</p>}
      <TensorInputs />
      <RecordedInputs />
    </section>
  );
}
