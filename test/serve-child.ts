/**
 * `startServer` in a child process (load tests and the benchmark measure the server's own memory and
 * run clients beside it, not in it). Prints one JSON line {port, desktopToken, pairingToken, pid}, then
 * serves until stdin closes. Loopback only.
 */
import { join } from 'node:path';
import { indexModels } from '../src/server/models.ts';
import { startServer } from '../src/server/serve.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: serve-child.ts <dataDir> [reference]');
const withReference = process.argv[3] === 'reference';
const models = withReference ? await indexModels([join(process.cwd(), 'models')]) : null;
const server = await startServer({ dataDir, staticDir: null, port: 0, locate: models?.locate ?? null, referenceBackend: 'cpu' });
process.stdout.write(`${JSON.stringify({ port: server.port, desktopToken: server.credentials.desktopToken, pairingToken: server.credentials.pairingToken, pid: process.pid })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void server.close().then(() => process.exit(0));
});
