// Entry of a statistics worker thread (stats-pool-node.ts). A worker does not inherit the parent's tsx
// loader in Node 20, so it registers tsx itself, resolved from this file, then loads the TypeScript body.
// (Named `.boot.mjs`, not `-boot.mjs`: scripts/build-cli.mjs bundles only src/server's workers; this one
// keeps running from the sources, and the pool falls back to the calling thread if it cannot start.)
import { register } from 'tsx/esm/api';

register();
await import('./stats-worker.ts');
