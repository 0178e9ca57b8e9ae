// Entry of a statistics worker thread (stats-pool-node.ts). A worker does not inherit the parent's tsx
// loader in Node 20, so it registers tsx itself, resolved from this file, then loads the TypeScript body.
// In the built CLI (scripts/build-cli.mjs) the bundled worker is loaded without tsx; the pool falls back to
// the calling thread if a thread cannot start.
import { register } from 'tsx/esm/api';

register();
await import('./stats-worker.ts');
