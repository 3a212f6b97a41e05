export interface LoadFigures {
  scenario: string;
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  throughput: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
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
  const latencies: number[] = [];
  let errors = 0;
  let total = 0;
  let counter = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const n = await run(counter++).catch(() => undefined);
        latencies.push(performance.now() - t);
        if (n === undefined) errors++;
        else total += n;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    figures: {
      scenario,
      concurrency,
      requests: latencies.length,
      errors,
      seconds,
      throughput: (latencies.length - errors) / seconds,
      latencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: latencies[latencies.length - 1] ?? 0 },
    },
    total,
  };
}
