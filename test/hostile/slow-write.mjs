// Preloaded (node --import) into a CLI run by test/hostile/writes.test.ts: every FileHandle#writeFile
// (the call io/atomic.ts writes an output with) writes the first half of its data, prints
// `exray-test: half-written <bytes>` on stderr, waits EXRAY_TEST_WRITE_PAUSE_MS (default 2000) and only
// then writes the rest. A trace streamed to its temp file while the model runs (src/cli/trace-writer.ts,
// fs.writeSync) is paused the same way after its first chunk, blocking (the write is synchronous; the
// signal's handler runs as soon as the event loop turns again). The test sends SIGINT when it sees that
// line: the interrupt then lands while a partial temp file is on disk, every time, whatever the
// machine's speed.
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

const pause = Number(process.env.EXRAY_TEST_WRITE_PAUSE_MS ?? 2000);
const probe = await open(process.execPath, 'r');
const proto = Object.getPrototypeOf(probe);
await probe.close();
const original = proto.writeFile;

proto.writeFile = async function slowWriteFile(data, options) {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const half = Math.floor(bytes.byteLength / 2);
  await this.write(bytes, 0, half, 0);
  process.stderr.write(`exray-test: half-written ${half}\n`);
  await new Promise((resolve) => setTimeout(resolve, pause));
  await this.write(bytes, half, bytes.byteLength - half, half);
  void original;
  void options;
};

const originalWriteSync = fs.writeSync;
const isTemp = (fd) => {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith('.tmp');
  } catch {
    return false;
  }
};
let pausedSync = false;
fs.writeSync = function slowWriteSync(fd, ...rest) {
  const n = originalWriteSync.call(fs, fd, ...rest);
  if (!pausedSync && fd > 2 && isTemp(fd)) {
    pausedSync = true;
    process.stderr.write(`exray-test: half-written ${n}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
  }
  return n;
};
// Named imports of node:fs (`import { writeSync } from 'node:fs'`) see the patch only after this.
syncBuiltinESMExports();
