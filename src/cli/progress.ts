/** Counters a progress display shows. */
export interface ProgressCounts {
  done: number;
  total: number;
  accepted: number;
  refused: number;
  skipped: number;
  invalid: number;
}

const BAR_WIDTH = 24;
const TTY_REFRESH_MS = 100;

/**
 * Progress of a long run on stderr: a bar redrawn in place on a terminal, a plain line every
 * `intervalMs` otherwise (logs, CI). Lines printed through log() never mix with the bar.
 */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private timer?: NodeJS.Timeout;
  private counts: ProgressCounts;

  constructor(
    total: number,
    private readonly opts: { tty: boolean; intervalMs: number; enabled: boolean; stream?: NodeJS.WriteStream },
  ) {
    this.counts = { done: 0, total, accepted: 0, refused: 0, skipped: 0, invalid: 0 };
    if (opts.enabled && !opts.tty) this.timer = setInterval(() => this.line(), opts.intervalMs).unref();
  }

  private get stream(): NodeJS.WriteStream {
    return this.opts.stream ?? process.stderr;
  }

  update(counts: ProgressCounts): void {
    this.counts = counts;
    if (!this.opts.enabled || !this.opts.tty) return;
    const now = Date.now();
    if (now - this.lastDraw >= TTY_REFRESH_MS || counts.done === counts.total) this.draw(now);
  }

  /** A message on stderr between two redraws of the bar. */
  log(message: string): void {
    this.clear();
    this.stream.write(`${message}\n`);
    if (this.opts.tty && this.opts.enabled) this.draw(Date.now());
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (!this.opts.enabled) return;
    if (this.opts.tty) {
      this.draw(Date.now());
      this.stream.write('\n');
      this.drawn = false;
    } else this.line();
  }

  private summary(): string {
    const c = this.counts;
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? c.done / elapsed : 0;
    const left = rate > 0 ? (c.total - c.done) / rate : 0;
    const percent = c.total ? Math.floor((c.done * 100) / c.total) : 100;
    return (
      `${c.done}/${c.total} ${percent}% · accepted ${c.accepted} · refused ${c.refused} · skipped ${c.skipped}` +
      (c.invalid ? ` · not submitted ${c.invalid}` : '') +
      ` · ${rate.toFixed(1)}/s` +
      (c.done < c.total && rate > 0 ? ` · ${duration(left)} left` : '')
    );
  }

  private draw(now: number): void {
    const c = this.counts;
    const filled = c.total ? Math.round((c.done / c.total) * BAR_WIDTH) : BAR_WIDTH;
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    const width = this.stream.columns || 100;
    this.stream.write(`\r\x1b[2K${`${bar} ${this.summary()}`.slice(0, width - 1)}`);
    this.lastDraw = now;
    this.drawn = true;
  }

  private clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }

  private line(): void {
    this.stream.write(`progress: ${this.summary()}\n`);
  }
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
