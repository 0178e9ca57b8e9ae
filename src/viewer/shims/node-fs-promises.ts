/**
 * Browser stand-in for `node:fs/promises` (aliased in vite.config.ts). src/models/card.ts and
 * manifest.ts import it at top level for their Node-only loaders; the page uses only their pure
 * parsers, so these functions are never called there.
 */
function unavailable(name: string): never {
  throw new Error(`node:fs/promises ${name}() is not available in the browser`);
}
export async function readFile(): Promise<never> {
  return unavailable('readFile');
}
export async function stat(): Promise<never> {
  return unavailable('stat');
}
export async function readdir(): Promise<never> {
  return unavailable('readdir');
}
export default { readFile, stat, readdir };
