const ABANDON_AFTER_MS = 60_000;

export interface CachedReadingOptions {
  /** A reading (or a failure) is reused for at least this long. */
  minAgeMs: number;
  /** ... and for this many times what the reading took, so that a slow count on a big registry is run rarely. */
  costFactor: number;
  /** A scrape waits this long at most; the reading goes on and serves the next scrape. */
  timeoutMs: number;
  now?: () => number;
}

/**
 * A value read from a backend at scrape time (queue counts, registry size): one reading at a time
 * whatever the number of scrapes, reused while fresh. A backend that fails or does not answer in
 * time gives `undefined`, so the scrape still answers and those gauges are absent.
 */
export class CachedReading<T> {
  private value: T | undefined;
  private readAt = -Infinity;
  private ttlMs: number;
  private pending: Promise<T | undefined> | undefined;
  private pendingSince = 0;
  private readonly now: () => number;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly opts: CachedReadingOptions,
  ) {
    this.ttlMs = opts.minAgeMs;
    this.now = opts.now ?? (() => performance.now());
  }

  async get(): Promise<T | undefined> {
    if (this.now() - this.readAt < this.ttlMs) return this.value;
    // A reading stuck on a half-open connection is given up after a while, so that it cannot block every later scrape.
    if (!this.pending || this.now() - this.pendingSince > ABANDON_AFTER_MS) {
      this.pendingSince = this.now();
      this.pending = this.refresh(this.pendingSince);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.opts.timeoutMs);
    });
    try {
      return await Promise.race([this.pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async refresh(started: number): Promise<T | undefined> {
    let value: T | undefined;
    try {
      value = await this.read();
    } catch {
      value = undefined;
    }
    // An abandoned reading that answers at last must not overwrite a newer one.
    if (this.pendingSince === started) {
      const finished = this.now();
      this.value = value;
      this.readAt = finished;
      this.ttlMs = Math.max(this.opts.minAgeMs, (finished - started) * this.opts.costFactor);
      this.pending = undefined;
    }
    return value;
  }
}
