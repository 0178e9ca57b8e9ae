/**
 * The turn-taking of src/agent/ort-run-gate.ts with runs whose ends the test controls: the agent's run
 * starts only when no app run is in flight, app runs that start meanwhile wait for it, and every
 * outcome (value or rejection) reaches its caller unchanged.
 */
import { describe, expect, it } from 'vitest';
import { RunGate } from '../src/agent/ort-run-gate.ts';

/** A run that ends when the test says so, logging its start and end. */
function controlled(log: string[], name: string): { start: () => Promise<string>; end: () => Promise<void>; fail: () => Promise<void> } {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const p = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const settle = async (ok: boolean): Promise<void> => {
    log.push(`${name} end`);
    if (ok) resolve(name);
    else reject(new Error(`${name} failed`));
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return {
    start: () => {
      log.push(`${name} start`);
      return p;
    },
    end: () => settle(true),
    fail: () => settle(false),
  };
}

const ticks = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('RunGate', () => {
  it('the agent waits for the app runs in flight; app runs started meanwhile wait for the agent', async () => {
    const gate = new RunGate();
    const log: string[] = [];
    const a1 = controlled(log, 'app1');
    const a2 = controlled(log, 'app2');
    const x = controlled(log, 'exray');
    const a3 = controlled(log, 'app3');
    const r1 = gate.app(a1.start);
    const r2 = gate.app(a2.start); // the app's own two runs in flight: not the agent's business
    const rx = gate.own(x.start);
    expect(gate.busy).toBe(true);
    const r3 = gate.app(a3.start);
    await ticks();
    expect(log).toEqual(['app1 start', 'app2 start']);
    await a1.end();
    expect(log).toEqual(['app1 start', 'app2 start', 'app1 end']);
    await a2.fail();
    expect(log).toEqual(['app1 start', 'app2 start', 'app1 end', 'app2 end', 'exray start']);
    await x.end();
    expect(log.slice(-2)).toEqual(['exray end', 'app3 start']);
    expect(gate.busy).toBe(false);
    await a3.end();
    await expect(r1).resolves.toBe('app1');
    await expect(r2).rejects.toThrow('app2 failed');
    await expect(rx).resolves.toBe('exray');
    await expect(r3).resolves.toBe('app3');
  });

  it('with nothing in flight both start at once; the agent\'s turns follow one another; a failed turn frees the gate', async () => {
    const gate = new RunGate();
    const log: string[] = [];
    const a = controlled(log, 'app');
    void gate.app(a.start);
    expect(log).toEqual(['app start']); // synchronously, as the app called it
    await a.end();
    const x1 = controlled(log, 'x1');
    const x2 = controlled(log, 'x2');
    const r1 = gate.own(x1.start);
    const r2 = gate.own(x2.start);
    await ticks();
    expect(log.slice(-1)).toEqual(['x1 start']);
    await x1.fail();
    await expect(r1).rejects.toThrow('x1 failed');
    expect(log.slice(-1)).toEqual(['x2 start']);
    await x2.end();
    await expect(r2).resolves.toBe('x2');
    expect(gate.busy).toBe(false);
    const b = controlled(log, 'app again');
    void gate.app(b.start);
    expect(log.slice(-1)).toEqual(['app again start']);
    await b.end();
  });
});
