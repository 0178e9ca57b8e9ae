/**
 * Progress of a farm run on the terminal: cells done / running / failed and an ETA. On a TTY one
 * status line is rewritten in place; otherwise (CI logs) one plain line per finished cell.
 */
export class FarmProgress {
  private total = 0;
  private done = 0;
  private failed = 0;
  private readonly running = new Set<string>();
  private readonly t0 = performance.now();

  constructor(private readonly write: (s: string) => void, private readonly tty: boolean) {}

  plan(cells: number): void {
    this.total = cells;
    this.write(`exray farm: ${cells} cells\n`);
  }

  start(id: string): void {
    this.running.add(id);
    if (this.tty) this.status();
  }

  end(id: string, ok: boolean): void {
    this.running.delete(id);
    this.done++;
    if (!ok) this.failed++;
    if (this.tty) this.status();
    else this.write(`[${this.done}/${this.total}] ${ok ? 'ok  ' : 'FAIL'} ${id} · ${this.counts()}\n`);
  }

  /** Lines that are not progress (references, diagnoses) go through here so the status line stays last. */
  line(s: string): void {
    this.write(this.tty ? `\r\x1b[2K${s}\n` : `${s}\n`);
    if (this.tty && this.total) this.status();
  }

  finish(): void {
    if (this.tty) this.write('\n');
  }

  /** Seconds left, from the mean time per finished cell so far (null before the first one). */
  eta(): number | null {
    if (this.done === 0) return null;
    const per = (performance.now() - this.t0) / 1000 / this.done;
    return Math.max(0, Math.round(per * (this.total - this.done)));
  }

  private counts(): string {
    const eta = this.eta();
    return `running ${this.running.size}, failed ${this.failed}${eta === null ? '' : `, ETA ${formatSeconds(eta)}`}`;
  }

  private status(): void {
    this.write(`\r\x1b[2K${this.done}/${this.total} cells done · ${this.counts()}`);
  }
}

export function formatSeconds(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
