/**
 * The utility worker (no TF.js, loads fast): backend probes and photo → input tensor pre-processing,
 * so that decoding a 12-megapixel camera photo does not freeze the page; and the input search of a
 * diagnosis against the original photo (`fit-input`).
 */
import { ExrayInputError } from '../../errors.ts';
import { fitPhotoInput, prepareInput } from './prepare.ts';
import { probeBackends } from './probe.ts';
import type { WorkerRequest, WorkerResponse } from './protocol.ts';

const scope = self as unknown as { postMessage(m: WorkerResponse, t: Transferable[]): void; addEventListener(t: 'message', l: (e: MessageEvent) => void): void };

async function handle(req: WorkerRequest): Promise<void> {
  try {
    if (req.type === 'probe') scope.postMessage({ type: 'probed', id: req.id, backends: await probeBackends('worker') }, []);
    else if (req.type === 'prepare') {
      const input = await prepareInput(req.blob, req.fileName, req.spec);
      scope.postMessage({ type: 'prepared', id: req.id, input }, [input.data.buffer as ArrayBuffer]);
    } else if (req.type === 'fit-input') {
      const fitted = await fitPhotoInput(req.blob, req.fileName, req.spec, req.edge);
      scope.postMessage({ type: 'input-fitted', id: req.id, fitted }, [fitted.input.data.buffer as ArrayBuffer]);
    } else scope.postMessage({ type: 'failed', id: req.id, message: `the utility worker does not run models (${req.type})` }, []);
  } catch (e) {
    const r: WorkerResponse =
      e instanceof ExrayInputError
        ? { type: 'failed', id: req.id, message: e.message, file: e.file }
        : { type: 'failed', id: req.id, message: e instanceof Error ? e.message : String(e) };
    scope.postMessage(r, []);
  }
}

scope.addEventListener('message', (e) => void handle(e.data as WorkerRequest));
