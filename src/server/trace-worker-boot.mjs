// Entry of the trace worker thread (see reference-worker-boot.mjs for why a worker registers tsx
// itself): registers tsx, resolved from this file whatever the cwd, then loads the TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./trace-worker.ts');
