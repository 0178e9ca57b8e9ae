/**
 * A capture pass's nodes handed on in order while a stats ring (src/trace/stats-ring.ts) computes some
 * of their statistics: a node whose statistics are all here, with none waiting before it, goes on at
 * once; others wait, and every node whose turn has come goes on as the ring answers (polled as later
 * nodes end), the rest once the run is over (`drain`).
 */
import type { PolledStats } from '../../trace/stats-ring.ts';
import type { CapturedNode } from './passes.ts';

export class NodesInOrder {
  private readonly waiting: { node: CapturedNode; tickets: (number | null)[] }[] = [];

  constructor(
    private readonly ring: PolledStats | undefined,
    private readonly onNode: (n: CapturedNode) => void,
    /** The values are views valid only during the node (a `borrow` capture). */
    private readonly borrowed: boolean,
  ) {
    // A capture starts: tickets a failed one left are never read.
    ring?.forget();
  }

  /** A node read as it ended, with the ring's ticket for each output's statistics (null: in `node.stats`). */
  handOn(node: CapturedNode, tickets: (number | null)[]): void {
    if (!this.ring || (this.waiting.length === 0 && tickets.every((t) => t === null))) {
      this.onNode(node);
      return;
    }
    // A borrowed view is gone after the node: only statistics outlive it (or a copy, without them).
    if (this.borrowed) node.values = node.values.map((v, k) => (v === null || node.stats?.[k] || tickets[k] !== null ? null : toCopy(v)));
    this.waiting.push({ node, tickets });
    this.flush();
  }

  /** The run is over: every node left, in order, once the ring has answered for it. */
  async drain(): Promise<void> {
    for (const w of this.waiting.splice(0)) {
      for (let k = 0; k < w.tickets.length; k++) {
        const ticket = w.tickets[k];
        if (ticket !== null && ticket !== undefined) w.node.stats![k] = await this.ring!.wait(ticket);
      }
      this.onNode(w.node);
    }
  }

  /** Hand on every waiting node whose statistics are all back, up to the first that is not. */
  private flush(): void {
    while (this.waiting.length > 0) {
      const w = this.waiting[0]!;
      for (let k = 0; k < w.tickets.length; k++) {
        const ticket = w.tickets[k];
        if (ticket === null || ticket === undefined) continue;
        const s = this.ring!.poll(ticket);
        if (!s) return;
        w.node.stats![k] = s;
        w.tickets[k] = null;
      }
      this.waiting.shift();
      this.onNode(w.node);
    }
  }
}

/** Values the caller owns: a copy of a typed array, else a plain array. */
export function toCopy(values: ArrayLike<number>): ArrayLike<number> {
  return values instanceof Float32Array || values instanceof Int32Array ? values.slice() : Array.from(values);
}
