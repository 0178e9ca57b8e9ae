/**
 * One run at a time on onnxruntime-web: the app's runs and the agent's capture runs take turns.
 *
 * onnxruntime-web runs every session on one wasm instance, and its `run` (1.30, lib/wasm/
 * wasm-core-impl.ts) takes space on the wasm stack (`stackAlloc` for the input and output handles),
 * then `await`s, then gives it back (`stackRestore`). Two runs in flight at once, even of two
 * sessions, restore the stack out of order and overwrite each other's handles: "memory access out of
 * bounds", "operation does not support unaligned accesses", or wrong values. An app that awaits each
 * run never has two in flight; the agent's capture session must not add a second (an app stepping
 * an audio model frame after frame, as vad-web does, runs while the agent builds its capture).
 *
 * So the agent's run waits until no app run is in flight, and from the moment it asks for its turn an
 * app run waits for it (so a busy app cannot starve it). The app's run is then late by one capture
 * run, never wrong. Session creation and release need no turn: they take and give back stack space
 * within one synchronous stretch.
 *
 * Pure: nothing here imports onnxruntime.
 */
export class RunGate {
  private appRuns = 0;
  /** The agent's latest turn (waiting for or running): app runs that start meanwhile wait for it. */
  private turn: Promise<void> | null = null;
  private idle: (() => void)[] = [];

  /** An agent run is running or waiting to: an app run started now would wait. */
  get busy(): boolean {
    return this.turn !== null;
  }

  /**
   * The app's run: `start()` now, or after the agent's turn when it has one. `start` returns the
   * run's promise, counted in flight until it settles (its outcome is the app's, untouched).
   */
  app<T>(start: () => Promise<T>): Promise<T> {
    const turn = this.turn;
    if (turn) return turn.then(() => this.app(start));
    const run = start();
    this.appRuns++;
    const settled = (): void => {
      if (--this.appRuns > 0) return;
      for (const wake of this.idle.splice(0)) wake();
    };
    run.then(settled, settled);
    return run;
  }

  /** The agent's run: once no app run is in flight (and after the agent's earlier turns). */
  async own<T>(run: () => Promise<T>): Promise<T> {
    const before = this.turn;
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    this.turn = mine;
    try {
      await before;
      while (this.appRuns > 0) await new Promise<void>((r) => this.idle.push(r));
      return await run();
    } finally {
      if (this.turn === mine) this.turn = null;
      done();
    }
  }
}
