/**
 * Limits of the machine for ITI-41 (`npm run bench -- limits`): the cost of each stage of one submission
 * (one 50 KB CR-BIO, MTOM), measured alone with the project's own functions, in this process, one
 * operation at a time: MTOM parse, envelope parse, metadata parse, hashes, metadata validation, registry pre-check,
 * CDA validation, SHA-1/SHA-256, DSG signing, content write with fsync, one queue round trip (the
 * SubmissionQueue's job, through Redis, to a BullMQ worker that does nothing, and the wait for it) and
 * one registry transaction (the commit of the signed submission), then the answer. For each: median
 * and p95 wall time and CPU milliseconds per operation, of this process and of Redis / PostgreSQL.
 * The write, queue and registry stages also run with 16 operations in flight, which gives what the
 * disk, Redis and PostgreSQL sustain alone.
 *
 * The bound these imply (docs/benchmarks.md): CPU bound = cores / CPU seconds of one submission, all
 * processes together; the submission rate can exceed none of the stage-alone rates either; the bound is
 * the smallest. The latency floor is the sum of the stages' medians. Written to
 * bench/results/<date>-limits.json; the report divides the achieved ITI-41 throughput by the bound.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'bullmq';
import { validateSubmittedCda, CdaValidator } from '../src/cda/validate-document.js';
import { loadConfig } from '../src/config.js';
import { ContentStore, hashBytes } from '../src/content/store.js';
import type { StoredDocument, SubmissionMetadata, SubmittedDocument } from '../src/ebrim/model.js';
import { parseProvideAndRegister } from '../src/ebrim/parse.js';
import { withRepositorySlots } from '../src/ebrim/repository-slots.js';
import { registryResponseXml } from '../src/ebrim/response.js';
import { responseAction, SOAP_ACTION } from '../src/ebrim/uuids.js';
import { validateSubmission } from '../src/ebrim/validate.js';
import { createLogger } from '../src/log.js';
import { consumerConnection, producerConnection } from '../src/queue/connection.js';
import { INDEX_QUEUE } from '../src/queue/jobs.js';
import { SubmissionQueue } from '../src/queue/submissions.js';
import { openDb } from '../src/registry/db.js';
import { migrate } from '../src/registry/migrate.js';
import { Registry, type CommitInput } from '../src/registry/registry.js';
import { gatewaySignerOf, withGatewaySignature } from '../src/signature/submission.js';
import { parseEnvelope, responseEnvelope, type SoapRequest } from '../src/soap/envelope.js';
import { buildMtomResponse, readSoapMessage, resolveXop, type IncomingSoapMessage } from '../src/soap/mtom.js';
import { dropTestState, PG_URL, REDIS_URL } from '../test/support/gateway.js';
import { buildIti41Request, makeLabResult, newPatientId, type Iti41Request } from '../test/support/requests.js';
import { quantile } from './support/drive.js';
import { cpuSeconds, pidsNamed, PostgresProcesses, round } from './support/proc.js';

const SUBMISSIONS = Number(process.env.BENCH_LIMIT_SUBMISSIONS ?? 300);
const WARM_UP = 30;
const IN_FLIGHT = 16;
const REPOSITORY = '1.2.250.1.999.1.1.1';

/** Where a stage's cost lands besides this process. */
type Elsewhere = 'redis' | 'postgres' | undefined;

interface StageCost {
  stage: string;
  runs: number;
  medianMs: number;
  p95Ms: number;
  /** CPU ms per operation in this process (the gateway's or worker's share). */
  cpuMs: number;
  /** CPU ms per operation in Redis or PostgreSQL (their share). */
  serverCpuMs: number;
  /** With 16 operations in flight: operations per second, and CPU ms per operation of all processes. */
  inFlight?: { perSecond: number; cpuMs: number };
}

interface Item {
  request: Iti41Request;
  incoming?: IncomingSoapMessage;
  soap?: SoapRequest;
  metadata?: SubmissionMetadata;
  documents?: SubmittedDocument[];
  stored?: StoredDocument[];
  blobs?: { bytes: Buffer; key: string }[];
  commit?: CommitInput;
}

class Measure {
  constructor(private readonly postgres: PostgresProcesses) {}

  async serverCpu(where: Elsewhere): Promise<number> {
    if (!where) return 0;
    const pids = where === 'redis' ? await pidsNamed('redis-server') : await this.postgres.list();
    const used = await Promise.all(pids.map(cpuSeconds));
    return used.reduce<number>((s, cpu) => s + (cpu ?? 0), 0);
  }

  /** Runs `fn` over the items one at a time; the first WARM_UP are not counted. */
  async sequential<T>(stage: string, items: T[], fn: (item: T) => unknown, where?: Elsewhere): Promise<StageCost> {
    for (const item of items.slice(0, WARM_UP)) await fn(item);
    const counted = items.slice(WARM_UP);
    const times: number[] = [];
    const cpu = process.cpuUsage();
    const server = await this.serverCpu(where);
    for (const item of counted) {
      const t = performance.now();
      await fn(item);
      times.push(performance.now() - t);
    }
    const used = process.cpuUsage(cpu);
    const serverUsed = (await this.serverCpu(where)) - server;
    times.sort((a, b) => a - b);
    const cost: StageCost = {
      stage,
      runs: counted.length,
      medianMs: round(quantile(times, 0.5)),
      p95Ms: round(quantile(times, 0.95)),
      cpuMs: round((used.user + used.system) / 1000 / counted.length),
      serverCpuMs: round((serverUsed * 1000) / counted.length),
    };
    console.log(`${stage}: median ${cost.medianMs} ms, p95 ${cost.p95Ms} ms, CPU ${cost.cpuMs} ms${where ? ` + ${where} ${cost.serverCpuMs} ms` : ''} per operation`);
    return cost;
  }

  /** Runs `fn` over the items with IN_FLIGHT at once: what the stage sustains alone. */
  async inFlight<T>(cost: StageCost, items: T[], fn: (item: T) => Promise<unknown>, where: Elsewhere): Promise<void> {
    let next = 0;
    const cpu = process.cpuUsage();
    const server = await this.serverCpu(where);
    const start = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < items.length) await fn(items[next++]!);
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    const serverUsed = (await this.serverCpu(where)) - server;
    cost.inFlight = { perSecond: round(items.length / seconds, 0), cpuMs: round(((used.user + used.system) / 1000 + serverUsed * 1000) / items.length) };
    console.log(`  ${IN_FLIGHT} in flight: ${cost.inFlight.perSecond}/s, CPU ${cost.inFlight.cpuMs} ms per operation (all processes)`);
  }
}

function freshItems(n: number, patients: string[]): Item[] {
  return Array.from({ length: n }, (_, i) => {
    const patientId = patients[i % patients.length]!;
    return { request: buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 50 }) }] }, 'mtom') };
  });
}

interface Bound {
  /** CPU ms of one submission, every process together: the sum of the stages' CPU, in flight where measured so. */
  cpuMsPerSubmission: number;
  cores: number;
  cpuBound: number;
  /** The stage-alone rates with 16 in flight. */
  stageBounds: Record<string, number>;
  /** The smallest of the CPU bound and the stage-alone rates: ITI-41 submissions per second. */
  bound: number;
  limitedBy: string;
  /** Sum of the stages' median times: the least latency of one submission on an idle machine. */
  latencyFloorMs: number;
}

function boundOf(stages: StageCost[], cores: number): Bound {
  // Under load a stage's own in-flight cost (batched Redis and PostgreSQL round trips) is what counts.
  const cpuMs = stages.reduce((s, c) => s + (c.inFlight?.cpuMs ?? c.cpuMs + c.serverCpuMs), 0);
  const cpuBound = (cores * 1000) / cpuMs;
  const stageBounds = Object.fromEntries(stages.filter((s) => s.inFlight).map((s) => [s.stage, s.inFlight!.perSecond]));
  const [limitedBy, bound] = Object.entries({ [`CPU (${cores} cores)`]: cpuBound, ...stageBounds }).reduce((a, b) => (b[1] < a[1] ? b : a));
  return {
    cpuMsPerSubmission: round(cpuMs),
    cores,
    cpuBound: round(cpuBound, 0),
    stageBounds,
    bound: round(bound, 0),
    limitedBy,
    latencyFloorMs: round(stages.reduce((s, c) => s + c.medianMs, 0), 2),
  };
}

async function main(): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-bench-limits-'));
  const schema = `bench_limits_${tag}`;
  const prefix = `xdsgw-bench-limits-${tag}`;
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? PG_URL;
  const config = loadConfig({ DATA_DIR: dataDir, REPOSITORY_UNIQUE_ID: REPOSITORY, LOG_LEVEL: 'silent' });
  const logger = createLogger('silent');
  const db = await openDb({ databaseUrl, schema, poolSize: IN_FLIGHT });
  const postgres = new PostgresProcesses(databaseUrl, () => [process.pid]);
  const cda = await CdaValidator.load({});
  const content = await ContentStore.open(path.join(dataDir, 'content'));
  const producer = producerConnection(REDIS_URL);
  const queue = new SubmissionQueue(producer, consumerConnection(REDIS_URL), prefix, 1);
  const workers = [new Worker(INDEX_QUEUE, async () => ({ status: 'committed' }), { prefix, concurrency: IN_FLIGHT, connection: consumerConnection(REDIS_URL) })];
  try {
    await migrate(db);
    await queue.ready();
    const registry = new Registry(db);
    const signer = await gatewaySignerOf(config, logger);
    const patients = Array.from({ length: 20 }, () => newPatientId());
    for (const p of patients) await registry.registerPatient(p);
    const m = new Measure(postgres);
    const items = freshItems(WARM_UP + SUBMISSIONS, patients);
    const extra = freshItems(SUBMISSIONS, patients);
    const stages: StageCost[] = [];

    // Each stage feeds the next, as in src/transactions/iti41.ts; `extra` goes through the same steps untimed.
    const mtom = (it: Item) => (it.incoming = readSoapMessage(it.request.contentType, it.request.body));
    const envelope = (it: Item) => (it.soap = parseEnvelope(it.incoming!.soapXml));
    const metadata = (it: Item) => {
      const parsed = parseProvideAndRegister(it.soap!.body, (el) => resolveXop(el, it.incoming!.attachments));
      if (!parsed.metadata || parsed.errors.length) throw new Error(`metadata refused: ${parsed.errors.map((e) => e.message).join('; ')}`);
      it.metadata = parsed.metadata;
      it.documents = parsed.documents;
    };
    const hash = (it: Item) => {
      const entry = it.metadata!.documentEntries[0]!;
      const { sha256, sha1, size } = hashBytes(it.documents![0]!.bytes);
      it.stored = [{ entryId: entry.id, uniqueId: entry.uniqueId, contentKey: sha256, sha1, size, mimeType: entry.mimeType }];
      it.blobs = [{ bytes: it.documents![0]!.bytes, key: sha256 }];
    };
    const validate = (it: Item) => {
      const [d, s] = [it.documents![0]!, it.stored![0]!];
      const errors = validateSubmission(it.metadata!, {
        documents: new Map([[d.submittedId, { sha1: s.sha1, size: s.size }]]),
        repositoryUniqueId: REPOSITORY,
        patientAuthority: config.patientAuthority,
      });
      if (errors.length) throw new Error(`metadata refused: ${errors.map((e) => e.message).join('; ')}`);
    };
    const precheck = async (it: Item) => {
      const errors = await registry.checkSubmission(it.metadata!, it.stored!);
      if (errors.length) throw new Error(`registry pre-check refused: ${errors[0]!.message}`);
    };
    const validateCda = (it: Item) => {
      const errors = validateSubmittedCda(it.metadata!.documentEntries, it.documents!, cda);
      if (errors.some((e) => e.severity === 'Error')) throw new Error(`CDA refused: ${errors[0]!.message}`);
    };
    // The worker's step: the gateway's signature made from the content keys, added to what is committed.
    const sign = (it: Item) => {
      const byEntry = new Map(it.stored!.map((s) => [s.entryId, s]));
      const registered = { ...it.metadata!, documentEntries: it.metadata!.documentEntries.map((e) => withRepositorySlots(e, byEntry.get(e.id)!, REPOSITORY)) };
      const signed = withGatewaySignature(registered, it.stored!, signer);
      it.commit = { submissionId: randomUUID(), metadata: signed.metadata, stored: signed.stored };
    };
    const write = async (it: Item) => Promise.all(it.blobs!.map((b) => content.put(b.bytes, b.key)));
    const roundTrip = async (it: Item) => {
      const outcome = await queue.submit({ ...it.commit!, deadline: Date.now() + 30_000 }, 30_000);
      if (outcome.status !== 'committed') throw new Error(`queue round trip: ${outcome.status}`);
    };
    const commit = async (it: Item) => {
      const status = await registry.commitSubmission(it.commit!);
      if (status !== 'committed') throw new Error(`registry transaction: ${status}`);
    };
    const answer = (it: Item) =>
      buildMtomResponse(responseEnvelope({ action: responseAction(SOAP_ACTION.iti41), relatesTo: it.soap!.messageId, bodyXml: registryResponseXml([]) }), []);

    const steps: [string, (it: Item) => unknown, Elsewhere, boolean][] = [
      ['MTOM parse', mtom, undefined, false],
      ['SOAP envelope parse', envelope, undefined, false],
      ['metadata parse', metadata, undefined, false],
      ['SHA-1 + SHA-256', hash, undefined, false],
      ['metadata validate', validate, undefined, false],
      ['registry pre-check', precheck, 'postgres', false],
      ['CDA validation', validateCda, undefined, false],
      ['DSG signing', sign, undefined, false],
      ['content write + fsync', write, undefined, true],
      ['queue round trip', roundTrip, 'redis', true],
      ['registry transaction', commit, 'postgres', true],
      ['SOAP answer', answer, undefined, false],
    ];
    for (const [name, fn, where, concurrent] of steps) {
      const cost = await m.sequential(name, items, fn, where);
      stages.push(cost);
      if (!concurrent) {
        for (const it of extra) await fn(it);
        continue;
      }
      await m.inFlight(cost, extra, async (it) => fn(it), where);
    }

    const bound = boundOf(stages, os.cpus().length);
    console.log(
      `ITI-41 bound on this machine: ${bound.bound} submissions/s, limited by ${bound.limitedBy} ` +
        `(CPU ${bound.cpuMsPerSubmission} ms per submission over ${bound.cores} cores = ${bound.cpuBound}/s); latency floor ${bound.latencyFloorMs} ms`,
    );
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/${new Date().toISOString().slice(0, 10)}-limits.json`;
    writeFileSync(
      file,
      JSON.stringify({ suite: 'limits', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, documentBytes: items[0]!.documents![0]!.bytes.length, stages, bound }, null, 2),
    );
    console.log(`written ${file}`);
  } finally {
    await Promise.allSettled(workers.map((w) => w.close()));
    await queue.close();
    producer.disconnect();
    cda.dispose();
    await postgres.close();
    await db.exec(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await db.close();
    await dropTestState({ prefix });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
