/** Moved to src/io/atomic.ts (the CLI writes through it too); re-exported for the server's imports. */
export * from '../io/atomic.ts';
