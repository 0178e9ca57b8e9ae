/**
 * Which of an app's inferences the agent captures (every node's output read back and streamed) and
 * which only get timed, so the app stays usable: the first `first` inferences of each model, then every
 * `every`-th, plus the next one after `captureNext()` (the desktop's "capture the next inference").
 * Pure and per model: counts are kept per model so a second model does not shift the first one's.
 */
export interface SamplingOptions {
  /** Capture the first N inferences of each model (default 1). */
  first?: number;
  /** Then capture every k-th inference (0 = never; default 0). */
  every?: number;
}

export type Decision = 'capture' | 'timing';

export class Sampler {
  private readonly first: number;
  private readonly every: number;
  private readonly counts = new Map<unknown, number>();
  private requested = 0;

  constructor(o: SamplingOptions = {}) {
    this.first = Math.max(0, Math.floor(o.first ?? 1));
    this.every = Math.max(0, Math.floor(o.every ?? 0));
  }

  /** The decision for `model`'s next inference (counts it). */
  next(model: unknown): Decision {
    const n = this.counts.get(model) ?? 0;
    this.counts.set(model, n + 1);
    if (this.requested > 0) {
      this.requested--;
      return 'capture';
    }
    if (n < this.first) return 'capture';
    if (this.every > 0 && (n - this.first + 1) % this.every === 0) return 'capture';
    return 'timing';
  }

  /** Capture the next inference, whichever model makes it. */
  captureNext(): void {
    this.requested++;
  }

  /** Inferences seen for `model`. */
  count(model: unknown): number {
    return this.counts.get(model) ?? 0;
  }
}
