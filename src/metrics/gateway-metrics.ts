import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { CdaReport } from '../cda/validate-document.js';
import { CachedReading } from './cached-reading.js';
import { cdaRuleOf } from './cda-rules.js';
import type { QueueJobCounts, RegistryObjectType } from './backend-readings.js';
import { forEachErrorCode, REQUEST_OUTCOMES, responseOutcome, type RequestOutcome } from './registry-response.js';

/** 1 ms to 30 s: a retrieve from cache at the bottom, a 20 MB submission waiting for its commit at the top. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const JOB_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Label of requests whose transaction is not known (an unknown Action sent to /xds). */
export const UNKNOWN_TRANSACTION = 'unknown';
/** Distinct values one label may take before the rest are counted as `other` (a guard; the values are bounded anyway). */
const MAX_LABEL_VALUES = 500;

/** A SOAP fault as the metrics see it (SoapFault has this shape). */
export interface FaultLike {
  code: string;
  subcode?: { prefix: string; local: string };
}

interface TransactionSeries {
  outcomes: Record<RequestOutcome, { inc(): void }>;
  duration: { observe(seconds: number): void };
  /** Counts one returned XDS error code (bound once, so that recording allocates nothing). */
  countError: (code: string) => void;
}

export interface GatewayMetricsOptions {
  /** Transactions whose request series start at 0 (the gateway's SOAP transactions); none for a worker process. */
  transactions?: string[];
}

/**
 * The gateway's Prometheus metrics in a registry of its own (several gateways may run in one
 * process, as in the tests). Recording on the request path is synchronous and uses series bound
 * in advance; the backend gauges are read at scrape time, through CachedReading.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'transaction' | 'outcome'>;
  private readonly duration: Histogram<'transaction'>;
  private readonly errors: Counter<'transaction' | 'code'>;
  private readonly cdaFailures: Counter<'rule'>;
  private readonly jobDuration: Histogram<'queue'>;
  private readonly series = new Map<string, TransactionSeries>();
  private readonly cdaRules = new Set<string>();
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(opts: GatewayMetricsOptions = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'xdsgw_requests_total',
      help: 'SOAP requests answered, by IHE transaction and outcome (Success, PartialSuccess, Failure, Fault).',
      labelNames: ['transaction', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'xdsgw_request_duration_seconds',
      help: 'Time from the arrival of a SOAP request to its answer, body upload included, by IHE transaction.',
      labelNames: ['transaction'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.errors = new Counter({
      name: 'xdsgw_errors_total',
      help: 'rs:RegistryError elements returned (Errors and Warnings), by XDS error code; SOAP faults as Fault:<subcode or code>.',
      labelNames: ['transaction', 'code'],
      registers,
    });
    this.cdaFailures = new Counter({
      name: 'xdsgw_cda_validation_failures_total',
      help: 'CDA documents of ITI-41 submissions that failed a validation rule (schema, document type rule, metadata/header consistency), by rule.',
      labelNames: ['rule'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'xdsgw_job_duration_seconds',
      help: 'Time a worker spent on a store or index job attempt, successful or not, by queue.',
      labelNames: ['queue'],
      buckets: JOB_BUCKETS,
      registers,
    });
    for (const metric of processMetrics()) this.registry.registerMetric(metric);
    for (const name of opts.transactions ?? []) this.seriesOf(name);
  }

  /** A SOAP answer carrying an ebRS response: its status and each error code it returns. */
  response(transaction: string, bodyXml: string, startedAt: bigint | undefined): void {
    const s = this.seriesOf(transaction);
    s.outcomes[responseOutcome(bodyXml)].inc();
    s.duration.observe(secondsSince(startedAt));
    forEachErrorCode(bodyXml, s.countError);
  }

  /** A SOAP fault answer. */
  fault(transaction: string, fault: FaultLike, startedAt: bigint | undefined): void {
    const s = this.seriesOf(transaction);
    s.outcomes.Fault.inc();
    s.duration.observe(secondsSince(startedAt));
    s.countError(fault.subcode ? `Fault:${fault.subcode.prefix}:${fault.subcode.local}` : `Fault:${fault.code}`);
  }

  /** The validation report of one submitted CDA document: each rule it fails is counted once. */
  readonly cdaReport = (report: CdaReport): void => {
    if (report.valid) return;
    const seen = new Set<string>();
    for (const issue of report.issues) {
      if (issue.severity !== 'Error') continue;
      const rule = cdaRuleOf(issue, report.type);
      if (seen.has(rule)) continue;
      seen.add(rule);
      this.cdaFailures.inc({ rule: this.bounded(this.cdaRules, rule) });
    }
  };

  /** One attempt of a job, from the worker picking it up to its end. */
  jobFinished(queue: string, seconds: number): void {
    this.jobDuration.observe({ queue }, seconds);
  }

  /** xdsgw_queue_jobs{queue,state}, read at scrape time. */
  watchQueues(read: () => Promise<QueueJobCounts>, close: () => Promise<void>): void {
    const reading = new CachedReading(read, { minAgeMs: 1000, costFactor: 20, timeoutMs: 1000 });
    this.closers.push(close);
    new Gauge({
      name: 'xdsgw_queue_jobs',
      help: 'Jobs of the submission (index) queue by state (waiting, active, delayed, failed, completed); absent while Redis does not answer.',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        const counts = await reading.get();
        this.reset();
        for (const [queue, states] of Object.entries(counts ?? {})) {
          for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
        }
      },
    });
  }

  /** xdsgw_registry_objects{type}, counted at scrape time at most every 5 s (longer when the count is slow). */
  watchRegistry(read: () => Promise<Record<RegistryObjectType, number>>): void {
    const reading = new CachedReading(read, { minAgeMs: 5000, costFactor: 50, timeoutMs: 2000 });
    new Gauge({
      name: 'xdsgw_registry_objects',
      help: 'Objects in the registry by type (documents: every DocumentEntry version; deleted objects excluded); absent while the database does not answer.',
      labelNames: ['type'],
      registers: [this.registry],
      async collect() {
        const counts = await reading.get();
        this.reset();
        for (const [type, n] of Object.entries(counts ?? {})) this.set({ type }, n);
      },
    });
  }

  /** The exposition text of every metric. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.closers.map((c) => c()));
  }

  private seriesOf(transaction: string): TransactionSeries {
    const known = this.series.get(transaction);
    if (known) return known;
    const name = this.series.size < MAX_LABEL_VALUES ? transaction : 'other';
    const outcomes = {} as TransactionSeries['outcomes'];
    for (const outcome of REQUEST_OUTCOMES) {
      this.requests.inc({ transaction: name, outcome }, 0);
      outcomes[outcome] = this.requests.labels(name, outcome);
    }
    const codes = new Map<string, { inc(): void }>();
    const s: TransactionSeries = {
      outcomes,
      duration: this.duration.labels(name),
      countError: (code) => {
        let counter = codes.get(code);
        if (!counter) {
          counter = this.errors.labels(name, codes.size < MAX_LABEL_VALUES ? code : 'other');
          codes.set(code, counter);
        }
        counter.inc();
      },
    };
    this.series.set(transaction, s);
    return s;
  }

  private bounded(seen: Set<string>, value: string): string {
    if (seen.has(value)) return value;
    if (seen.size >= MAX_LABEL_VALUES) return 'other';
    seen.add(value);
    return value;
  }
}

/** Seconds since the request arrived (res.locals.startedAt, set by the request logging); 0 if it was not set. */
function secondsSince(startedAt: bigint | undefined): number {
  return startedAt === undefined ? 0 : Number(process.hrtime.bigint() - startedAt) / 1e9;
}

/** The transaction a dedicated SOAP endpoint serves (/xds/iti41 → ITI-41), for faults raised before the Action is read. */
export function transactionOfEndpoint(path: string): string {
  const n = /^\/xds\/iti(\d{2})\/?$/i.exec(path)?.[1];
  return n === undefined ? UNKNOWN_TRANSACTION : `ITI-${n}`;
}

let processRegistry: Registry | undefined;

/**
 * prom-client's process metrics (CPU, memory, event loop lag, GC, handles), prefixed xdsgw_. They
 * describe the process, so they are collected once per process and shared by every gateway in it:
 * each collectDefaultMetrics call would start its own GC observer and event-loop monitor.
 */
function processMetrics(): Metric[] {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'xdsgw_' });
  }
  const registry = processRegistry;
  return registry.getMetricsAsArray().flatMap((m) => registry.getSingleMetric(m.name) ?? []);
}
