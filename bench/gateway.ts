/**
 * Gateway scenarios (`npm run bench -- gateway` for all, or `npm run bench -- iti41-cda50k` ...): starts the
 * gateway (and its workers) as in production, in their own processes, against the machine's PostgreSQL and
 * Redis (own schema and key prefix), then drives it from a load generator process on keep-alive
 * connections at several concurrencies. Each point gives throughput, latency p50/p95/p99/max, errors,
 * CPU of gateway / worker / PostgreSQL / Redis / load generator, and peak RSS of gateway and worker.
 * Figures go to bench/results/<date>-<scenario>.json, the chart to bench/results/<date>-<scenario>.svg.
 *
 * BENCH_SECONDS (default 15) is the length of one point; the soak scenario runs BENCH_SOAK_SECONDS
 * (default 1800) at BENCH_SOAK_CONCURRENCY clients (default 16) and samples RSS every 10 s.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { rssChart, scenarioChart } from './chart.js';
import { PDF_BYTES } from './support/documents.js';
import type { LoadFigures } from './support/drive.js';
import { startLoadProcess, type LoadProcess, type Workload } from './support/load.js';
import { linearRegression, round, type Usage } from './support/proc.js';
import { REPOSITORY, startStack, type Stack } from './support/stack.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 1800);
const SOAK_CONCURRENCY = Number(process.env.BENCH_SOAK_CONCURRENCY ?? 16);
const CONCURRENCIES = [1, 4, 16, 64];

interface Setup {
  patients: string[];
  /** Registered 50 KB CR-BIO uniqueIds, for the retrieve scenarios. */
  retrievable: string[];
}

interface Scenario {
  title: string;
  workload: (s: Setup) => Workload;
  /** Closed-loop client counts, or open-loop rates (requests per second). */
  points: { concurrency?: number; rate?: number }[];
  seconds?: number;
  /** Bytes of one document, for the RSS growth ratio. */
  documentBytes?: number;
}

const closed = (cs: number[]) => cs.map((concurrency) => ({ concurrency }));

const SCENARIOS: Record<string, Scenario> = {
  'iti41-cda50k': {
    title: 'ITI-41, one 50 KB CR-BIO (MTOM, full pipeline)',
    workload: (s) => ({ kind: 'iti41', patients: s.patients, documents: 1, document: 'cda50k' }),
    points: closed(CONCURRENCIES),
  },
  'iti41-cda50k-rate': {
    title: 'ITI-41, one 50 KB CR-BIO, open loop at a fixed rate',
    workload: (s) => ({ kind: 'iti41', patients: s.patients, documents: 1, document: 'cda50k' }),
    points: [{ rate: 50 }, { rate: 150 }, { rate: 300 }],
  },
  'iti41-5docs': {
    title: 'ITI-41, five 50 KB CR-BIO documents per submission',
    workload: (s) => ({ kind: 'iti41', patients: s.patients, documents: 5, document: 'cda50k' }),
    points: closed(CONCURRENCIES),
  },
  'iti41-pdf20m': {
    title: 'ITI-41, one 20 MB PDF document (application/pdf)',
    workload: (s) => ({ kind: 'iti41', patients: s.patients, documents: 1, document: 'pdf20m' }),
    points: closed([1, 2, 4]),
    seconds: Math.max(SECONDS, 20),
    documentBytes: PDF_BYTES,
  },
  'iti41-cda-pdf20m': {
    title: 'ITI-41, one unstructured CDA wrapping a 20 MB PDF',
    workload: (s) => ({ kind: 'iti41', patients: s.patients, documents: 1, document: 'cda-pdf20m' }),
    points: closed([1, 2, 4]),
    seconds: Math.max(SECONDS, 20),
    documentBytes: PDF_BYTES,
  },
  'iti43-1': {
    title: 'ITI-43, one 50 KB document per request',
    workload: (s) => ({ kind: 'iti43', repositoryUniqueId: REPOSITORY, uniqueIds: s.retrievable, perRequest: 1 }),
    points: closed(CONCURRENCIES),
  },
  'iti43-10': {
    title: 'ITI-43, ten 50 KB documents per request',
    workload: (s) => ({ kind: 'iti43', repositoryUniqueId: REPOSITORY, uniqueIds: s.retrievable, perRequest: 10 }),
    points: closed(CONCURRENCIES),
  },
  soak: {
    title: `ITI-41 soak, one 50 KB CR-BIO, ${SOAK_CONCURRENCY} clients`,
    workload: (s) => ({ kind: 'iti41', patients: s.patients, documents: 1, document: 'cda50k' }),
    points: [{ concurrency: SOAK_CONCURRENCY }],
    seconds: SOAK_SECONDS,
  },
};

/** The scenarios `npm run bench -- gateway` runs; the soak is asked for by name (or by the full run). */
const DEFAULT_SCENARIOS = Object.keys(SCENARIOS).filter((n) => n !== 'soak');

interface Point extends LoadFigures {
  cpu: Usage['groups'];
  peakRssMb: Record<string, number>;
  startRssMb: Record<string, number>;
  failures: string[];
  /** The machine's 1-minute load average at the end of the point: above the cores, other work competed. */
  loadAverage: number;
  /** Large documents: peak RSS growth of the gateway during the point over the bytes in flight (document size × clients). */
  rssGrowthPerDocument?: number;
}

const mb = (kb: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(kb).map(([k, v]) => [k, round(v / 1024, 1)]));

async function runPoint(stack: Stack, load: LoadProcess, name: string, s: Scenario, setup: Setup, point: Scenario['points'][number], rssEveryMs?: number): Promise<{ point: Point; usage: Usage }> {
  const sampler = stack.sampler({ 'load generator': load.pid }, { rssEveryMs });
  await sampler.start();
  const result = await load.run({ scenario: name, base: stack.base, workload: s.workload(setup), seconds: s.seconds ?? SECONDS, ...point });
  const usage = await sampler.stop();
  const f = result.figures;
  const p: Point = {
    ...f,
    throughput: round(f.throughput, 1),
    seconds: round(f.seconds, 2),
    latencyMs: { p50: round(f.latencyMs.p50, 1), p95: round(f.latencyMs.p95, 1), p99: round(f.latencyMs.p99, 1), max: round(f.latencyMs.max, 1) },
    cpu: usage.groups,
    peakRssMb: mb(usage.peakRssKb),
    startRssMb: mb(usage.startRssKb),
    failures: result.failures,
    loadAverage: round(os.loadavg()[0]!, 2),
  };
  if (s.documentBytes) p.rssGrowthPerDocument = round(((usage.peakRssKb.gateway! - usage.startRssKb.gateway!) * 1024) / (s.documentBytes * (point.concurrency ?? 1)), 2);
  const at = point.rate ? `${point.rate}/s` : `c${point.concurrency}`;
  console.log(
    `${name} ${at}: ${p.throughput} req/s, p50 ${p.latencyMs.p50} ms, p95 ${p.latencyMs.p95} ms, p99 ${p.latencyMs.p99} ms, max ${p.latencyMs.max} ms, ` +
      `errors ${p.errors}/${p.requests}; CPU ${Object.entries(p.cpu).map(([k, v]) => `${k} ${v.cpuPercent}%`).join(', ')}; ` +
      `peak RSS gateway ${p.peakRssMb.gateway} MB${p.rssGrowthPerDocument !== undefined ? ` (growth ${p.rssGrowthPerDocument}× the PDF per client)` : ''}`,
  );
  if (p.failures.length) console.log(`  first failure: ${p.failures[0]}`);
  return { point: p, usage };
}

/** Three seconds of one-document submissions: warms the JIT of a gateway started for one point. */
async function warmUp(stack: Stack, load: LoadProcess): Promise<Setup> {
  const warm = await load.run({ scenario: 'warm-up', base: stack.base, workload: { kind: 'iti41', patients: stack.patients, documents: 1, document: 'cda50k' }, seconds: 3, concurrency: 2 });
  if (warm.figures.errors) throw new Error(`warm-up failed: ${warm.figures.errors} errors of ${warm.figures.requests}; ${warm.failures[0] ?? ''}`);
  return { patients: stack.patients, retrievable: warm.registered.flat() };
}

/** A few submissions of five documents: warms the JIT and gives documents to retrieve. */
async function prepare(stack: Stack, load: LoadProcess): Promise<Setup> {
  const warm = await load.run({
    scenario: 'warm-up',
    base: stack.base,
    workload: { kind: 'iti41', patients: stack.patients, documents: 5, document: 'cda50k' },
    seconds: 5,
    concurrency: 4,
  });
  const retrievable = warm.registered.flat();
  if (warm.figures.errors || retrievable.length < 10) {
    throw new Error(`warm-up failed: ${warm.figures.errors} errors of ${warm.figures.requests}; ${warm.failures[0] ?? ''}`);
  }
  console.log(`warm-up: ${warm.figures.requests} submissions of 5 documents, ${retrievable.length} documents to retrieve`);
  return { patients: stack.patients, retrievable };
}

function machine(): Record<string, unknown> {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30, 1), kernel: os.release(), node: process.version };
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = wanted.length ? wanted : DEFAULT_SCENARIOS;
  for (const n of names) if (!SCENARIOS[n]) throw new Error(`unknown scenario ${n}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync('bench/results', { recursive: true });
  const load = await startLoadProcess();
  let shared: { stack: Stack; setup: Setup } | undefined;
  try {
    for (const name of names) {
      const s = SCENARIOS[name]!;
      const points: Point[] = [];
      let soak: SoakFigures | undefined;
      let workers = '';
      for (const point of s.points) {
        // A large document's RSS growth is measured on a gateway of its own, warmed up with small ones only.
        const fresh = s.documentBytes !== undefined;
        if (!fresh && !shared) shared = await sharedStack(load);
        const own = fresh ? await startStack() : undefined;
        try {
          const { stack, setup } = own ? { stack: own, setup: await warmUp(own, load) } : shared!;
          workers = stack.workers;
          const { point: p, usage } = await runPoint(stack, load, name, s, setup, point, name === 'soak' ? 10_000 : undefined);
          points.push(p);
          if (name === 'soak') soak = soakFigures(usage, p);
        } finally {
          await own?.close();
        }
      }
      const file = `bench/results/${date}-${name}`;
      const record = { scenario: name, title: s.title, date: new Date().toISOString(), machine: machine(), workers, secondsPerPoint: s.seconds ?? SECONDS, points, ...(soak ? { soak } : {}) };
      writeFileSync(`${file}.json`, JSON.stringify(record, null, 2));
      const open = s.points.some((p) => p.rate);
      const chart = points.map((p) => ({ x: open ? p.targetRate! : p.concurrency, throughput: p.throughput, p50: p.latencyMs.p50, p99: p.latencyMs.p99 }));
      const caption = `${s.title} — ${date}, ${os.cpus().length} cores`;
      writeFileSync(
        `${file}.svg`,
        soak
          ? rssChart(caption, soak.samples.map((x) => ({ minutes: x.t / 60, mb: x.gatewayMb })), { slope: soak.gateway.slopeMbPerMinute, intercept: soak.gateway.interceptMb, fromMinutes: soak.fittedFromSeconds / 60 })
          : scenarioChart(caption, open ? 'offered rate (requests / s)' : 'concurrent clients', chart),
      );
      console.log(`written ${file}.json and ${file}.svg`);
    }
  } finally {
    await load.close();
    await shared?.stack.close();
  }
}

async function sharedStack(load: LoadProcess): Promise<{ stack: Stack; setup: Setup }> {
  const stack = await startStack();
  try {
    console.log(`gateway pid ${stack.gatewayPid}, workers ${stack.workers}${stack.workerPid ? ` (pid ${stack.workerPid})` : ''}, load generator pid ${load.pid}`);
    return { stack, setup: await prepare(stack, load) };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

interface Trend {
  slopeMbPerMinute: number;
  interceptMb: number;
  r2: number;
  growthOverRunMb: number;
}

interface SoakFigures {
  /** The trend is fitted on the samples from this second on (after the first minute, when there are enough). */
  fittedFromSeconds: number;
  samples: { t: number; gatewayMb: number; workerMb: number }[];
  gateway: Trend;
  worker: Trend;
  errors: number;
  requests: number;
}

/** The soak's verdict: RSS trend (least-squares slope over the samples after the first minute) and errors. */
function soakFigures(usage: Usage, p: Point): SoakFigures {
  const samples = usage.rssSamples.map((s) => ({ t: s.t, gatewayMb: round((s.rssKb.gateway ?? 0) / 1024, 1), workerMb: round((s.rssKb.worker ?? 0) / 1024, 1) }));
  const settled = samples.filter((s) => s.t >= 60);
  const used = settled.length >= 3 ? settled : samples;
  const trend = (key: 'gatewayMb' | 'workerMb'): Trend => {
    const r = linearRegression(used.map((s) => ({ x: s.t / 60, y: s[key] })));
    return { slopeMbPerMinute: round(r.slope, 3), interceptMb: round(r.intercept, 1), r2: round(r.r2, 3), growthOverRunMb: round(r.slope * ((used.at(-1)?.t ?? 0) - (used[0]?.t ?? 0)) / 60, 1) };
  };
  const figures = { fittedFromSeconds: used[0]?.t ?? 0, samples, gateway: trend('gatewayMb'), worker: trend('workerMb'), errors: p.errors, requests: p.requests };
  console.log(`soak: gateway RSS slope ${figures.gateway.slopeMbPerMinute} MB/min (R² ${figures.gateway.r2}), worker ${figures.worker.slopeMbPerMinute} MB/min, errors ${p.errors}/${p.requests}`);
  return figures;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
