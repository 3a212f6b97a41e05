export interface LoadFigures {
  scenario: string;
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  throughput: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Open loop only: the rate asked for, in requests per second. */
  targetRate?: number;
}

/** What the clients of one run saw: each request's latency, and the sum of what the successful ones resolved to. */
class Tally {
  readonly latencies: number[] = [];
  errors = 0;
  total = 0;
  readonly start = performance.now();

  /** One request: `result` undefined is an error. */
  add(latencyMs: number, result: number | undefined): void {
    this.latencies.push(latencyMs);
    if (result === undefined) this.errors++;
    else this.total += result;
  }

  done(scenario: string, concurrency: number, targetRate?: number): { figures: LoadFigures; total: number } {
    const figures = summarize(scenario, concurrency, this.latencies, this.errors, (performance.now() - this.start) / 1000);
    return { figures: targetRate === undefined ? figures : { ...figures, targetRate }, total: this.total };
  }
}

/**
 * Runs `run` from `concurrency` clients for `durationMs`. A run that throws or resolves undefined is an
 * error; the others count towards throughput, and what they resolve to is summed into `total`.
 */
export async function drive(
  scenario: string,
  concurrency: number,
  durationMs: number,
  run: (i: number) => Promise<number | undefined>,
): Promise<{ figures: LoadFigures; total: number }> {
  const tally = new Tally();
  let counter = 0;
  const end = tally.start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const n = await run(counter++).catch(() => undefined);
        tally.add(performance.now() - t, n);
      }
    }),
  );
  return tally.done(scenario, concurrency);
}

/**
 * Open loop: starts a request every 1/rate seconds whatever the previous ones do, for `durationMs`.
 * Latency runs from the moment a request was due, so a gateway that falls behind is charged for the
 * wait (no coordinated omission). Beyond `maxInFlight` outstanding requests, a due request is counted
 * as an error instead of being sent. `concurrency` in the figures is the most requests seen in flight.
 */
export async function driveAtRate(
  scenario: string,
  rate: number,
  durationMs: number,
  run: (i: number) => Promise<number | undefined>,
  maxInFlight = 1024,
): Promise<{ figures: LoadFigures; total: number }> {
  const tally = new Tally();
  let inFlight = 0;
  let mostInFlight = 0;
  const pending: Promise<void>[] = [];
  const count = Math.floor((rate * durationMs) / 1000);
  for (let i = 0; i < count; i++) {
    const due = tally.start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= maxInFlight) {
      tally.add(performance.now() - due, undefined);
      continue;
    }
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    pending.push(
      run(i)
        .catch(() => undefined)
        .then((n) => {
          inFlight--;
          tally.add(performance.now() - due, n);
        }),
    );
  }
  await Promise.all(pending);
  return tally.done(scenario, mostInFlight, rate);
}

/**
 * `clients` clients that together ask `rate` requests per second, each at its own pace (client k sends its
 * j-th request at start + (j * clients + k) / rate), one request at a time. Latency runs from the moment a
 * request was due: a client held up by a slow answer sends its next one late and is charged for the wait
 * (no coordinated omission). The latency a service level is stated at, at a given load, where `drive`
 * measures the most a service does.
 */
export async function drivePaced(
  scenario: string,
  clients: number,
  rate: number,
  durationMs: number,
  run: (i: number) => Promise<number | undefined>,
): Promise<{ figures: LoadFigures; total: number }> {
  const tally = new Tally();
  const perClient = Math.floor((rate * durationMs) / 1000 / clients);
  await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      for (let j = 0; j < perClient; j++) {
        const n = j * clients + k;
        const due = tally.start + (n * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const result = await run(n).catch(() => undefined);
        tally.add(performance.now() - due, result);
      }
    }),
  );
  return tally.done(scenario, clients, rate);
}

function summarize(scenario: string, concurrency: number, latencies: number[], errors: number, seconds: number): LoadFigures {
  latencies.sort((a, b) => a - b);
  return {
    scenario,
    concurrency,
    requests: latencies.length,
    errors,
    seconds,
    throughput: (latencies.length - errors) / seconds,
    latencyMs: { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1] ?? 0 },
  };
}

/** The median of values in any order: the middle one, or the mean of the two middle ones. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
