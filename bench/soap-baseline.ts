/**
 * Our SOAP layer against the ecosystem's default (`npm run bench -- soap-baseline`). The baseline is an
 * echo service built with the `soap` package (bench/support/soap-echo.ts), in its own process. The same
 * SOAP 1.2 request (WS-Addressing headers, a one-element body) goes:
 *   - to the `soap` echo service, which parses it, dispatches on the WSDL and answers the echo;
 *   - to our gateway's /xds/iti18, which reads it, parses envelope and WS-Addressing and answers the
 *     SOAP 1.2 fault for an Action it does not serve (wsa:ActionNotSupported): our cheapest path that
 *     still parses the envelope and answers one, with no backend touched;
 * and, as the cheapest real transaction, an ITI-18 request naming an unknown stored query goes to our
 * gateway: answered XDSUnknownStoredQuery, which also writes its ATNA audit record to PostgreSQL.
 * Each at 1 and 16 clients from the load generator process; throughput and gateway CPU per request.
 * Goal: ours ≥ 3× the baseline. Written to bench/results/<date>-soap-baseline.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { ECHO_PATH, startLoadProcess, type Workload } from './support/load.js';
import { round, UsageSampler } from './support/proc.js';
import { startStack } from './support/stack.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONCURRENCIES = [1, 16];

interface Run {
  target: string;
  concurrency: number;
  throughput: number;
  latencyMs: { p50: number; p99: number };
  errors: number;
  requests: number;
  /** CPU of the serving process, in ms per answered request. */
  serverCpuMsPerRequest: number;
  serverCpuPercent: number;
  loadGeneratorCpuPercent: number;
  failures: string[];
}

async function startEcho(port: number): Promise<{ pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/support/soap-echo.ts', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`soap echo service exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function main(): Promise<void> {
  const echoPort = 17000 + Math.floor(Math.random() * 1000);
  const echo = await startEcho(echoPort);
  const stack = await startStack({ patients: 1 });
  const load = await startLoadProcess();
  const runs: Run[] = [];
  try {
    const targets: { target: string; base: string; pid: number; workload: Workload }[] = [
      { target: 'soap package echo', base: `http://127.0.0.1:${echoPort}`, pid: echo.pid, workload: { kind: 'echo', path: ECHO_PATH } },
      { target: 'gateway, same request (ActionNotSupported fault)', base: stack.base, pid: stack.gatewayPid, workload: { kind: 'echo-unsupported-action', path: '/xds/iti18' } },
      { target: 'gateway, ITI-18 unknown stored query (with audit)', base: stack.base, pid: stack.gatewayPid, workload: { kind: 'iti18-unknown-query' } },
    ];
    for (const t of targets) await load.run({ scenario: 'warm-up', base: t.base, workload: t.workload, seconds: 3, concurrency: 16 });
    for (const concurrency of CONCURRENCIES) {
      for (const t of targets) {
        const sampler = new UsageSampler(
          [
            { name: 'server', pids: () => [t.pid] },
            { name: 'load generator', pids: () => [load.pid] },
          ],
          {},
        );
        await sampler.start();
        const r = await load.run({ scenario: t.target, base: t.base, workload: t.workload, seconds: SECONDS, concurrency });
        const usage = await sampler.stop();
        const ok = r.figures.requests - r.figures.errors;
        const run: Run = {
          target: t.target,
          concurrency,
          throughput: round(r.figures.throughput, 0),
          latencyMs: { p50: round(r.figures.latencyMs.p50, 2), p99: round(r.figures.latencyMs.p99, 2) },
          errors: r.figures.errors,
          requests: r.figures.requests,
          serverCpuMsPerRequest: round((usage.groups.server!.cpuSeconds * 1000) / Math.max(1, ok), 3),
          serverCpuPercent: usage.groups.server!.cpuPercent,
          loadGeneratorCpuPercent: usage.groups['load generator']!.cpuPercent,
          failures: r.failures,
        };
        runs.push(run);
        console.log(
          `${t.target}, ${concurrency} client${concurrency > 1 ? 's' : ''}: ${run.throughput} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, ` +
            `errors ${run.errors}/${run.requests}, server CPU ${run.serverCpuMsPerRequest} ms per request (${run.serverCpuPercent}%), load generator ${run.loadGeneratorCpuPercent}%`,
        );
        if (run.failures.length) console.log(`  first failure: ${run.failures[0]}`);
      }
    }
  } finally {
    await load.close();
    await stack.close();
    await echo.stop();
  }
  const at = (target: string, c: number) => runs.find((r) => r.target === target && r.concurrency === c)!;
  const ratios = CONCURRENCIES.map((c) => {
    const base = at('soap package echo', c);
    const ours = at('gateway, same request (ActionNotSupported fault)', c);
    const iti18 = at('gateway, ITI-18 unknown stored query (with audit)', c);
    return {
      concurrency: c,
      throughputRatio: { sameRequest: round(ours.throughput / base.throughput, 2), iti18UnknownQuery: round(iti18.throughput / base.throughput, 2) },
      cpuPerRequestRatio: { sameRequest: round(base.serverCpuMsPerRequest / ours.serverCpuMsPerRequest, 2), iti18UnknownQuery: round(base.serverCpuMsPerRequest / iti18.serverCpuMsPerRequest, 2) },
    };
  });
  for (const r of ratios) {
    console.log(
      `${r.concurrency} client(s): ours / soap package throughput ${r.throughputRatio.sameRequest}× (same request), ${r.throughputRatio.iti18UnknownQuery}× (ITI-18 unknown query); ` +
        `efficiency (soap package CPU per request / ours) ${r.cpuPerRequestRatio.sameRequest}× / ${r.cpuPerRequestRatio.iti18UnknownQuery}× (goal ≥ 3×)`,
    );
  }
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().slice(0, 10)}-soap-baseline.json`;
  writeFileSync(file, JSON.stringify({ suite: 'soap-baseline', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, secondsPerRun: SECONDS, runs, ratios }, null, 2));
  console.log(`written ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
