// Entry of the reference worker thread. A worker does not inherit the parent's tsx loader (neither
// `node bin/exray.mjs`'s register() nor `tsx`'s --import apply to new threads in Node 20), so it
// registers tsx itself, resolved from this file (whatever the cwd), then loads the TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./reference-worker.ts');
