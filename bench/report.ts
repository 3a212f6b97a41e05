/**
 * The summary of a benchmark run (`npm run bench -- report`, and at the end of `npm run bench`): reads the
 * newest figures of each suite in bench/results/, sets every goal of issue #8 beside its figure, the
 * achieved/bound ratio of ITI-41, and a table per scenario. Printed, and written to
 * bench/results/<date>-summary.md.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const DIR = 'bench/results';

interface Point {
  concurrency: number;
  targetRate?: number;
  requests: number;
  errors: number;
  throughput: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  cpu: Record<string, { cpuPercent: number }>;
  peakRssMb: Record<string, number>;
  rssGrowthPerDocument?: number;
  failures: string[];
  loadAverage?: number;
}

interface ScenarioFile {
  scenario: string;
  title: string;
  date: string;
  workers: string;
  points: Point[];
  soak?: { gateway: { slopeMbPerMinute: number; r2: number }; worker: { slopeMbPerMinute: number }; errors: number; requests: number; samples: unknown[] };
  secondsPerPoint: number;
}

interface LimitsFile {
  date: string;
  stages: { stage: string; medianMs: number; p95Ms: number; cpuMs: number; serverCpuMs: number; inFlight?: { perSecond: number; cpuMs: number } }[];
  bound: { bound: number; limitedBy: string; cpuMsPerSubmission: number; cpuBound: number; cores: number; latencyFloorMs: number };
}

interface QueryFile {
  date: string;
  documents: number;
  /** GATEWAY_PROCESSES of the run (files written before it was recorded: one). */
  gatewayProcesses?: number;
  figures: { scenario: string; concurrency: number; throughput: number; errors: number; requests: number; latencyMs: { p50: number; p95: number; p99: number; max: number }; targetRate?: number }[];
}

interface BaselineFile {
  date: string;
  runs: { target: string; concurrency: number; throughput: number; latencyMs: { p50: number; p99: number }; errors: number; requests: number; serverCpuMsPerRequest: number }[];
  ratios: { concurrency: number; throughputRatio: { sameRequest: number; iti18UnknownQuery: number }; cpuPerRequestRatio: { sameRequest: number; iti18UnknownQuery: number } }[];
}

/** The newest bench/results/<date>-<name>.json, with its file name. */
function newest<T>(name: string): { file: string; data: T } | undefined {
  if (!existsSync(DIR)) return undefined;
  const files = readdirSync(DIR)
    .filter((f) => new RegExp(`^\\d{4}-\\d{2}-\\d{2}-${name.replace(/[-]/g, '\\-')}\\.json$`).test(f))
    .sort();
  const file = files.at(-1);
  return file ? { file, data: JSON.parse(readFileSync(`${DIR}/${file}`, 'utf8')) as T } : undefined;
}

const n = (v: number | undefined, digits = 0): string => (v === undefined || Number.isNaN(v) ? '–' : v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const clients = (c: number): string => `${c} client${c === 1 ? '' : 's'}`;
const processes = (p: number): string => `${p} gateway process${p === 1 ? '' : 'es'}`;
const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : 'missed');

/** The best clean point (no errors) of a scenario, by throughput. */
function best(s: ScenarioFile | undefined): Point | undefined {
  return s?.points.filter((p) => p.errors === 0).sort((a, b) => b.throughput - a.throughput)[0];
}

function summary(): string {
  const scenarios = ['iti41-cda50k', 'iti41-cda50k-rate', 'iti41-5docs', 'iti41-pdf20m', 'iti41-cda-pdf20m', 'iti43-1', 'iti43-10', 'soak'].map((name) => ({ name, found: newest<ScenarioFile>(name) }));
  const get = (name: string) => scenarios.find((s) => s.name === name)?.found?.data;
  const limits = newest<LimitsFile>('limits')?.data;
  const query = newest<QueryFile>('query')?.data;
  const baseline = newest<BaselineFile>('soap-baseline')?.data;
  const out: string[] = [];
  const date = new Date().toISOString().slice(0, 10);

  out.push(`# Benchmark summary, ${date}`, '');
  out.push(
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${n(os.totalmem() / 2 ** 30, 1)} GiB RAM, Linux ${os.release()}, Node ${process.version}; ` +
      'gateway, workers, PostgreSQL, Redis and the load generator all on this machine, which other work shared while measured.',
    '',
  );

  const iti41 = best(get('iti41-cda50k'));
  const at150 = get('iti41-cda50k-rate')?.points.find((p) => p.targetRate === 150);
  const ratio = iti41 && limits ? iti41.throughput / limits.bound.bound : undefined;
  const i43 = best(get('iti43-1'));
  const i43x10 = best(get('iti43-10'));
  const find = query?.figures.find((f) => f.scenario === 'find-documents');
  const paced = query?.figures.find((f) => f.scenario.startsWith('find-documents-paced-'));
  const soapRatio = baseline?.ratios.find((r) => r.concurrency === 16) ?? baseline?.ratios.at(-1);
  const pdf = get('iti41-pdf20m')?.points.find((p) => p.concurrency === 1);
  const cdaPdf = get('iti41-cda-pdf20m')?.points.find((p) => p.concurrency === 1);
  const soak = get('soak');
  out.push('## Goals (issue #8)', '', '| goal | figure | verdict |', '|---|---|---|');
  out.push(`| ITI-41, one 50 KB CDA: ≥ 300 submissions/s | ${iti41 ? `${n(iti41.throughput, 1)}/s at ${clients(iti41.concurrency)}` : '–'} | ${verdict(iti41 && iti41.throughput >= 300)} |`);
  out.push(
    `| ITI-41 p99 ≤ 100 ms at 150/s | ${at150 ? `p99 ${n(at150.latencyMs.p99, 1)} ms, ${n(at150.throughput, 1)}/s served, ${at150.errors} errors of ${at150.requests}` : '–'} | ${verdict(at150 && at150.latencyMs.p99 <= 100 && at150.errors === 0)} |`,
  );
  out.push(
    `| ITI-41 achieved/bound ≥ 0.6 | ${ratio !== undefined ? `${n(ratio, 2)} (${n(iti41!.throughput, 1)}/s of a bound of ${n(limits!.bound.bound)}/s, limited by ${limits!.bound.limitedBy})` : '–'} | ${verdict(ratio === undefined ? undefined : ratio >= 0.6)} |`,
  );
  out.push(`| ITI-43 one document: ≥ 3,000/s | ${i43 ? `${n(i43.throughput)}/s at ${clients(i43.concurrency)}` : '–'} | ${verdict(i43 && i43.throughput >= 3000)} |`);
  out.push(`| ITI-43 ten documents: ≥ 500/s | ${i43x10 ? `${n(i43x10.throughput)}/s at ${clients(i43x10.concurrency)}` : '–'} | ${verdict(i43x10 && i43x10.throughput >= 500)} |`);
  out.push(
    `| ITI-18 FindDocuments at 1,000,000 entries: ≥ 1,000/s, p99 ≤ 20 ms | ${find ? `${n(find.throughput)}/s, p99 ${n(find.latencyMs.p99, 1)} ms at ${clients(find.concurrency)}, ${n(query!.documents)} entries, ${processes(query!.gatewayProcesses ?? 1)}` : '–'} | ${verdict(find && query!.documents >= 1_000_000 ? find.throughput >= 1000 && find.latencyMs.p99 <= 20 : undefined)}${find && query!.documents < 1_000_000 ? ' (registry smaller than 1,000,000)' : ''} |`,
  );
  out.push(
    `| ITI-18 FindDocuments, the same goals as a load asked for: 16 clients paced to 1,000/s in all, p99 ≤ 20 ms | ${paced ? `${n(paced.throughput)}/s served of ${n(paced.targetRate ?? 0)}/s asked, p99 ${n(paced.latencyMs.p99, 1)} ms (from when each query was due)` : '–'} | ${verdict(paced && query!.documents >= 1_000_000 ? (paced.targetRate ?? 0) >= 1000 && paced.throughput >= 0.98 * (paced.targetRate ?? 0) && paced.latencyMs.p99 <= 20 : undefined)} |`,
  );
  out.push(
    `| SOAP layer ≥ 3× the \`soap\` echo | ${soapRatio ? `${n(soapRatio.throughputRatio.sameRequest, 2)}× throughput (same request, ${clients(soapRatio.concurrency)}), CPU efficiency ${n(soapRatio.cpuPerRequestRatio.sameRequest, 2)}× (their CPU per request / ours); ITI-18 ${n(soapRatio.throughputRatio.iti18UnknownQuery, 2)}×` : '–'} | ${verdict(soapRatio && soapRatio.throughputRatio.sameRequest >= 3)} |`,
  );
  out.push(
    `| 20 MB document: peak RSS growth ≤ 3× its size | ${pdf?.rssGrowthPerDocument !== undefined ? `${n(pdf.rssGrowthPerDocument, 2)}× (PDF as application/pdf, one client)` : '–'}${cdaPdf ? `; wrapped in a CDA: ${cdaPdf.errors === cdaPdf.requests ? `refused (${cdaPdf.failures[0]?.replace(/^[^:]+: CDA document [^:]+: /, '').slice(0, 160) ?? ''})` : `${n(cdaPdf.rssGrowthPerDocument, 2)}×`}` : ''} | ${verdict(pdf?.rssGrowthPerDocument === undefined ? undefined : pdf.rssGrowthPerDocument <= 3 && pdf.errors === 0)} |`,
  );
  out.push(
    `| 30 min of ITI-41: RSS flat, zero errors | ${soak?.soak ? `${n(soak.secondsPerPoint / 60, 1)} min: gateway RSS slope ${n(soak.soak.gateway.slopeMbPerMinute, 3)} MB/min (R² ${n(soak.soak.gateway.r2, 2)}), worker ${n(soak.soak.worker.slopeMbPerMinute, 3)} MB/min, ${soak.soak.errors} errors of ${soak.soak.requests}` : '–'} | ${verdict(soak?.soak ? soak.secondsPerPoint >= 1800 && flatRss(soak.soak.gateway) && soak.soak.errors === 0 : undefined)}${soak && soak.secondsPerPoint < 1800 ? ' (shorter than 30 min)' : ''} |`,
  );
  out.push('');

  out.push('## Scenarios', '', 'CPU in % of one core (200 % = the whole machine); PostgreSQL counts the backends serving the gateway and worker plus its WAL writer, background writer and checkpointer; Redis is the machine\'s shared server. Load: the machine\'s 1-minute load average at the end of the point (above the number of cores, other work competed for them).', '');
  out.push('| scenario | clients / rate | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | CPU gateway / worker / PostgreSQL / Redis / load | peak RSS gateway MB | load |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { name, found } of scenarios) {
    if (!found) continue;
    for (const p of found.data.points) {
      const c = (k: string) => n(p.cpu[k]?.cpuPercent);
      out.push(
        `| [${name}](${found.file.replace(/\.json$/, '.svg')}) | ${p.targetRate ? `${p.targetRate}/s` : p.concurrency} | ${n(p.throughput, 1)} | ${n(p.latencyMs.p50, 1)} | ${n(p.latencyMs.p95, 1)} | ${n(p.latencyMs.p99, 1)} | ${n(p.latencyMs.max, 1)} | ${p.errors}/${p.requests} | ${c('gateway')} / ${c('worker')} / ${c('postgres')} / ${c('redis')} / ${c('load generator')} | ${n(p.peakRssMb.gateway)} | ${n(p.loadAverage, 1)} |`,
      );
    }
  }
  if (query) {
    for (const f of query.figures) {
      out.push(`| query ${f.scenario} (${n(query.documents)} entries) | ${f.concurrency} | ${n(f.throughput, 1)} | ${n(f.latencyMs.p50, 1)} | ${n(f.latencyMs.p95, 1)} | ${n(f.latencyMs.p99, 1)} | ${n(f.latencyMs.max, 1)} | ${f.errors}/${f.requests} | – | – | – |`);
    }
  }
  out.push('');

  if (limits) {
    out.push('## Limits: ITI-41 stages alone (one 50 KB CR-BIO)', '');
    out.push('| stage | median ms | p95 ms | CPU ms (this process) | CPU ms (Redis / PostgreSQL) | 16 in flight: per s, CPU ms all processes |', '|---|---|---|---|---|---|');
    for (const s of limits.stages) {
      out.push(`| ${s.stage} | ${n(s.medianMs, 3)} | ${n(s.p95Ms, 3)} | ${n(s.cpuMs, 3)} | ${s.serverCpuMs ? n(s.serverCpuMs, 3) : '–'} | ${s.inFlight ? `${n(s.inFlight.perSecond)}/s, ${n(s.inFlight.cpuMs, 3)} ms` : '–'} |`);
    }
    const b = limits.bound;
    out.push(
      '',
      `Bound: ${n(b.cpuMsPerSubmission, 2)} CPU ms per submission over ${b.cores} cores = ${n(b.cpuBound)}/s; the smallest of that and the stage-alone rates is **${n(b.bound)}/s** (${b.limitedBy}). ` +
        `Latency floor (sum of medians): ${n(b.latencyFloorMs, 1)} ms.${iti41 ? ` Achieved: ${n(iti41.throughput, 1)}/s, achieved/bound **${n(ratio, 2)}**.` : ''}`,
      '',
    );
  }

  if (baseline) {
    out.push('## SOAP layer against the `soap` package echo', '');
    out.push('| server | clients | req/s | p50 ms | p99 ms | errors | server CPU ms per request |', '|---|---|---|---|---|---|---|');
    for (const r of baseline.runs) out.push(`| ${r.target} | ${r.concurrency} | ${n(r.throughput)} | ${n(r.latencyMs.p50, 2)} | ${n(r.latencyMs.p99, 2)} | ${r.errors}/${r.requests} | ${n(r.serverCpuMsPerRequest, 3)} |`);
    out.push('');
  }
  out.push('Method and model: [docs/benchmarks.md](../../docs/benchmarks.md).', '');
  return out.join('\n');
}

const text = summary();
const file = `${DIR}/${new Date().toISOString().slice(0, 10)}-summary.md`;
writeFileSync(file, text);
console.log(text);
console.log(`written ${file}`);

/** No growth trend: a slope under 0.1 MB/min, or one that explains under 10 % of the samples' variance (GC sawtooth). */
function flatRss(fit: { slopeMbPerMinute: number; r2: number }): boolean {
  return Math.abs(fit.slopeMbPerMinute) < 0.1 || fit.r2 < 0.1;
}
