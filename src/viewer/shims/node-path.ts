/** Browser stand-in for `node:path` (aliased in vite.config.ts); see node-fs-promises.ts. */
function unavailable(name: string): never {
  throw new Error(`node:path ${name}() is not available in the browser`);
}
const path = {
  resolve: (): never => unavailable('resolve'),
  relative: (): never => unavailable('relative'),
  join: (): never => unavailable('join'),
  basename: (p: string): string => p.slice(p.lastIndexOf('/') + 1),
  isAbsolute: (p: string): boolean => p.startsWith('/'),
};
export default path;
