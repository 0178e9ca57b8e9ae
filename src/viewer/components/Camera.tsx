/** One camera frame as the input (getUserMedia, the back camera on a phone). */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { choosePhoto } from '../state/controller.ts';

export function Camera(): ReactNode {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<string | null>(null);
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (video.current && stream) video.current.srcObject = stream;
    return () => stream?.getTracks().forEach((t) => t.stop());
  }, [stream]);
  const start = async (): Promise<void> => {
    setError(null);
    if (!navigator.mediaDevices?.getUserMedia) {
      setError('no camera access here (needs https or localhost)');
      return;
    }
    try {
      setStream(await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }));
    } catch (e) {
      setError(`camera: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const capture = (): void => {
    const v = video.current;
    if (!v || !v.videoWidth) return;
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d')?.drawImage(v, 0, 0);
    canvas.toBlob((blob) => {
      if (blob) choosePhoto(blob, `camera-${new Date().toISOString().replace(/[:.]/g, '-')}.png`);
      setStream(null);
    }, 'image/png');
  };
  if (!stream) {
    return (
      <>
        <button type="button" className="button small" data-testid="camera-start" onClick={() => void start()}>
          Camera
        </button>
        {error && <span className="errors small">{error}</span>}
      </>
    );
  }
  return (
    <div className="camera">
      <video ref={video} autoPlay playsInline muted data-testid="camera-video" />
      <div className="row">
        <button type="button" className="button small primary" data-testid="camera-capture" onClick={capture}>
          Capture
        </button>
        <button type="button" className="button small" onClick={() => setStream(null)}>
          Close
        </button>
      </div>
    </div>
  );
}
