/**
 * ITI-18 benchmark (`npm run bench -- query`): seeds a PostgreSQL registry in its own schema with
 * BENCH_DOCUMENTS document entries (default 1,000,000; `--documents N` when run directly) by the registry
 * seed (src/registry/seed.ts, `npm run seed`), checks the generic plans of its statements with EXPLAIN, then
 * starts the gateway on that schema and drives it over HTTP with 16 concurrent clients:
 *   find-documents  FindDocuments, patient + classCode + creationTime range, LeafClass (~20 entries)
 *   get-documents   GetDocuments by one uniqueId, LeafClass
 * and both again with one client (-c1), which shows the service time of one query, and FindDocuments from 16
 * clients paced to BENCH_PACED_RATE queries/s in all (default 1,000; latency counted from when each query was
 * due, so a gateway that falls behind is charged for it): the latency at that load. Then, in the same run,
 * the floors of FindDocuments at 16 clients (bench/support/floors.ts): its statement from pgbench, and from a
 * bare HTTP server over `pg` that answers the stored templates as they are.
 * Figures go to bench/results/<date>-query.json (…-query-partial.json when BENCH_QUERY_SCENARIOS keeps only some of
 * the scenarios: find-documents, get-documents, find-documents-c1, get-documents-c1, find-documents-paced, floor). Set BENCH_KEEP_SCHEMA=1 to keep the seeded schema
 * (its name is printed) and BENCH_SCHEMA=<name> to reuse one.
 * The load is sent by a minimal keep-alive client (bench/support/http-client.ts) that leaves the CPU to the
 * gateway and PostgreSQL; BENCH_HTTP_CLIENT=undici sends it with undici instead, for comparison. FindDocuments
 * at 16 clients is also sent by wrk when it is on the machine (bench/support/wrk.ts), to the gateway and to the
 * bare HTTP floor: a C client whose own time does not count in the latency as the Node client's event loop does.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { STATUS } from '../src/ebrim/uuids.js';
import { openDb, type Db } from '../src/registry/db.js';
import { migrate } from '../src/registry/migrate.js';
import { DEFAULT_DOCUMENTS_PER_PATIENT, documentUniqueIdOf, patientIdOf, seedRegistry } from '../src/registry/seed.js';
import { runStoredQuery } from '../src/registry/stored-queries/run.js';
import type { AdhocQuery } from '../src/ebrim/query-request.js';
import { dropTestState, PG_URL, REDIS_URL } from '../test/support/gateway.js';
import { explainGenericPlan, statementsOf } from '../test/support/generic-plan.js';
import { buildIti18Request, queryList, queryString } from '../test/support/requests.js';
import { drive, drivePaced, type LoadFigures } from './support/drive.js';
import { hasPgbench, pgbench, startQueryFloor, type FloorServer, type PgbenchFigures } from './support/floors.js';
import { PostgresProcesses, PROCESS_LIST_MS, refreshedEvery, round, UsageSampler, withDescendants, type ProcessGroup } from './support/proc.js';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process.js';
import { httpClientFromEnv, queryClient, type QueryClient } from './support/query-client.js';
import { selectScenarios } from './support/scenarios.js';
import { hasWrk, runWrk, type WrkFigures } from './support/wrk.js';

const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';
const GET_DOCUMENTS = 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4';
const CONCURRENCY = 16;
/** The rate the paced FindDocuments run asks for (the issue's 1,000 queries/s), from its 16 clients. */
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
/** Load before the first measured point (see the warm-up in main). */
const WARM_UP_SECONDS = Number(process.env.BENCH_WARM_UP_SECONDS ?? 20);
const CLASS_SCHEME = '1.2.250.1.213.1.1.4.1';
/** The scenarios measured, in their order; BENCH_QUERY_SCENARIOS (comma-separated names, `floor` for both floors) keeps some. */
const SCENARIOS = ['find-documents', 'get-documents', 'find-documents-c1', 'get-documents-c1', 'find-documents-paced', 'floor'] as const;
/**
 * The query window: creation times are spread over 2015-2024, the window covers 2018-2024 (70 %); class 10 is
 * 60 % of the seeded entries, so a patient's 50 entries give about 21.
 */
const FROM = '2018';
const TO = '2025';

function documentCount(): number {
  const i = process.argv.indexOf('--documents');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.BENCH_DOCUMENTS;
  const n = raw === undefined ? 1_000_000 : Number(raw);
  if (!Number.isInteger(n) || n < DEFAULT_DOCUMENTS_PER_PATIENT) throw new Error(`document count must be an integer >= ${DEFAULT_DOCUMENTS_PER_PATIENT}, got '${raw}'`);
  return n;
}

async function seed(db: Db, n: number): Promise<number> {
  const start = performance.now();
  const { patients } = await seedRegistry(db, {
    documents: n,
    jobs: 2,
    onProgress: (done, total) =>
      process.stdout.write(`\rseeded ${done.toLocaleString('en')} / ${total.toLocaleString('en')} document entries (${((performance.now() - start) / 1000).toFixed(0)} s)`),
  });
  process.stdout.write('\n');
  return patients;
}

/**
 * patientIdOf(:k) (src/registry/seed.ts) as a pgbench SQL expression of its variable k: the INS-NIR of patient k
 * with its key. Checked against patientIdOf before use.
 */
const NIR13 =
  '((1 + cast(:k as bigint) % 2) * 1000000000000 + ((1930 + (cast(:k as bigint) * 7919) % 85) % 100) * 10000000000 + (1 + (cast(:k as bigint) * 31) % 12) * 100000000 + cast(:k as bigint))';
const PATIENT_ID_SQL = `cast(${NIR13} as text) || lpad(cast(97 - ${NIR13} % 97 as text), 2, '0') || '^^^&1.2.250.1.213.1.4.8&ISO'`;

const findDocuments = (patientId: string): AdhocQuery['slots'] => [
  { name: '$XDSDocumentEntryPatientId', values: [queryString(patientId)] },
  { name: '$XDSDocumentEntryClassCode', values: [queryList(`10^^${CLASS_SCHEME}`)] },
  { name: '$XDSDocumentEntryCreationTimeFrom', values: [FROM] },
  { name: '$XDSDocumentEntryCreationTimeTo', values: [TO] },
  { name: '$XDSDocumentEntryStatus', values: [queryList(STATUS.approved)] },
];

/**
 * Runs a query through the real executor, each statement answering no rows, and EXPLAINs each statement it
 * sent; returns the plans. The plans are the generic ones the gateway's prepared statements run once past their fifth execution
 * (test/support/generic-plan.ts), not the custom plans an EXPLAIN with the values would show.
 */
async function explain(db: Db, query: AdhocQuery): Promise<{ sql: string; params: unknown[]; plan: string[]; seqScans: string[] }[]> {
  const plans: { sql: string; params: unknown[]; plan: string[]; seqScans: string[] }[] = [];
  for (const { sql, params } of await statementsOf(db, (rec) => runStoredQuery(rec, query, { maxResults: 1000, homeCommunityId: 'urn:oid:1.2.250.1.999.1.1' }))) {
    const plan = await explainGenericPlan(db, sql, params, { analyze: true });
    plans.push({ sql, params, plan, seqScans: plan.filter((l) => /Seq Scan on (document_entries|associations|document_entry_\w+)\b/.test(l)) });
  }
  return plans;
}

interface Figures extends LoadFigures {
  resultsPerQuery: number;
  /** CPU milliseconds per query of the gateway, of PostgreSQL (its backends and WAL/checkpoint processes) and of this load client. */
  cpuMsPerQuery: Record<string, number>;
  /** The first request that failed, if one did: its error, or that its answer was not a Success. */
  firstError?: string;
}

/**
 * One scenario, with what each process spent on it: on a shared, noisy machine the CPU per query is the
 * steadier figure, throughput and latency depend on what else runs.
 */
async function measure(
  scenario: string,
  concurrency: number,
  durationMs: number,
  run: (i: number) => Promise<number | undefined>,
  groups: ProcessGroup[],
  pacedRate?: number,
): Promise<Figures> {
  let firstError: string | undefined;
  const checked = async (i: number): Promise<number | undefined> => {
    const entries = await run(i).catch((err: Error) => {
      firstError ??= err.message;
      return undefined;
    });
    if (entries === undefined) firstError ??= 'an answer other than an HTTP 200 Success';
    return entries;
  };
  const usage = new UsageSampler(groups, {});
  await usage.start();
  const { figures, total } = pacedRate ? await drivePaced(scenario, concurrency, pacedRate, durationMs, checked) : await drive(scenario, concurrency, durationMs, checked);
  const used = await usage.stop();
  const ok = figures.requests - figures.errors;
  const cpuMsPerQuery = Object.fromEntries(Object.entries(used.groups).map(([name, g]) => [name, figures.requests ? round((1000 * g.cpuSeconds) / figures.requests, 3) : 0]));
  return { ...figures, resultsPerQuery: ok ? total / ok : 0, cpuMsPerQuery, ...(firstError === undefined ? {} : { firstError }) };
}

const HTTP_CLIENT = httpClientFromEnv();

const PREBUILT_REQUESTS = 16_384;
/** Request i of FindDocuments is for patient (i × PATIENT_STRIDE) mod patients: a prime, so the patients spread. */
const PATIENT_STRIDE = 7919;
/** Requests wrk rotates through (its Lua script holds them all, in each of its threads). */
const WRK_REQUESTS = 2_048;

async function main(): Promise<void> {
  const n = documentCount();
  const scenarios = selectScenarios('BENCH_QUERY_SCENARIOS', process.env.BENCH_QUERY_SCENARIOS, SCENARIOS);
  const tag = randomBytes(4).toString('hex');
  const reuse = process.env.BENCH_SCHEMA;
  const schema = reuse ?? `bench_query_${tag}`;
  const keep = Boolean(reuse) || process.env.BENCH_KEEP_SCHEMA === '1';
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? PG_URL;
  const db = await openDb({ databaseUrl, schema, poolSize: 2, statementTimeoutMs: 600_000 });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-bench-query-'));
  const queuePrefix = `xdsgw-bench-${tag}`;
  let gateway: GatewayProcess | undefined;
  let floor: FloorServer | undefined;
  let postgres: PostgresProcesses | undefined;
  const clients: QueryClient[] = [];
  try {
    await migrate(db);
    const [{ count, registered }] = (await db.query<{ count: number; registered: number }>(
      'select (select count(*) from document_entries)::int as count, (select count(*) from patients)::int as registered',
    )) as [{ count: number; registered: number }];
    const seedStart = performance.now();
    if (count >= n && registered === 0) throw new Error(`schema ${schema} was seeded before the registry seed registered its patients: seed a new one`);
    const patients = count >= n ? registered : await seed(db, n);
    const seedSeconds = count >= n ? 0 : (performance.now() - seedStart) / 1000;
    console.log(`registry schema ${schema}: ${Math.max(count, n).toLocaleString('en')} document entries, ${patients.toLocaleString('en')} patients${seedSeconds ? `, seeded in ${seedSeconds.toFixed(0)} s` : ''}; load sent by the ${HTTP_CLIENT} client`);

    const plans = [
      ...(await explain(db, { queryId: FIND_DOCUMENTS, returnType: 'LeafClass', slots: findDocuments(patientIdOf(7)) })),
      ...(await explain(db, { queryId: GET_DOCUMENTS, returnType: 'LeafClass', slots: [{ name: '$XDSDocumentEntryUniqueId', values: [queryList(documentUniqueIdOf(12345))] }] })),
    ];
    for (const p of plans) console.log(`EXPLAIN ${p.sql}\n  ${p.plan.join('\n  ')}`);
    const seqScans = plans.flatMap((p) => p.seqScans);
    if (seqScans.length) throw new Error(`a query scans a whole table: ${seqScans.join('; ')}`);

    const port = 19000 + Math.floor(Math.random() * 1000);
    const env = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      REDIS_URL,
      QUEUE_PREFIX: queuePrefix,
      LOG_LEVEL: 'warn',
      // Callers are not authenticated here: the figures are those of the query path alone.
      AUTHENTICATION: 'off',
    };
    gateway = await startGatewayProcess(env, port);
    const { gatewayProcesses, databasePoolSize } = loadConfig(env);
    console.log(`gateway: ${gatewayProcesses} process${gatewayProcesses === 1 ? '' : 'es'} (GATEWAY_PROCESSES)`);
    const gatewayPid = gateway.child.pid!;
    // GATEWAY_PROCESSES > 1: the gateway is its primary and the processes it forks.
    const gatewayPids = refreshedEvery(PROCESS_LIST_MS, () => withDescendants([gatewayPid]));
    postgres = new PostgresProcesses(databaseUrl, gatewayPids);
    const groups: ProcessGroup[] = [
      { name: 'gateway', pids: gatewayPids },
      { name: 'postgres', pids: () => postgres!.list() },
      { name: 'load', pids: () => [process.pid] },
    ];
    const url = new URL(`${gateway.base}/xds/iti18`);
    const patientAt = (i: number): string => patientIdOf((i * PATIENT_STRIDE) % patients);
    const findQueries = Array.from({ length: PREBUILT_REQUESTS }, (_, i) =>
      buildIti18Request({ queryId: FIND_DOCUMENTS, params: Object.fromEntries(findDocuments(patientAt(i)).map((s) => [s.name, s.values[0]!])) }),
    );
    const getQueries = Array.from({ length: PREBUILT_REQUESTS }, (_, i) =>
      buildIti18Request({ queryId: GET_DOCUMENTS, params: { $XDSDocumentEntryUniqueId: queryList(documentUniqueIdOf(1 + ((i * 104729) % n))) } }),
    );
    const client = queryClient(HTTP_CLIENT, url, CONCURRENCY);
    clients.push(client);
    const find = client.prepare(findQueries);
    const get = client.prepare(getQueries);

    // A gateway that has just started answers slower until V8 has optimised its hot functions: for about ten
    // seconds of this load, the interpreted code keeps every answer's rows alive through two scavenges (130 KB
    // promoted per query, 30 ms pauses), then 0.1 MB per scavenge (docs/registry.md). A gateway in service
    // has long passed that point: the figures are taken after it.
    await drive('warm-up', CONCURRENCY, WARM_UP_SECONDS * 1000, (i) => (i % 2 ? find(i) : get(i)));
    const figures: Figures[] = [];
    // One client shows the service time of a query; sixteen, the throughput and tail latency under load (as many
    // queries as the gateway answers), and the latency at a given load (16 clients paced to PACED_RATE in all).
    for (const [scenario, concurrency, run, rate] of [
      ['find-documents', CONCURRENCY, find],
      ['get-documents', CONCURRENCY, get],
      ['find-documents-c1', 1, find],
      ['get-documents-c1', 1, get],
      ['find-documents-paced', CONCURRENCY, find, PACED_RATE],
    ] as const) {
      if (!scenarios.has(scenario)) continue;
      const name = rate ? `${scenario}-${rate}` : scenario;
      const f = await measure(name, concurrency, SECONDS * 1000, run, groups, rate);
      figures.push(f);
      console.log(
        `${name} (${concurrency} client${concurrency > 1 ? 's' : ''}${rate ? ` asking ${rate} q/s` : ''}): ${f.throughput.toFixed(0)} q/s, p50 ${f.latencyMs.p50.toFixed(1)} ms, p95 ${f.latencyMs.p95.toFixed(1)} ms, p99 ${f.latencyMs.p99.toFixed(1)} ms, max ${f.latencyMs.max.toFixed(1)} ms, ${f.resultsPerQuery.toFixed(1)} entries/answer, errors ${f.errors}/${f.requests}; ` +
          `CPU ms/query: gateway ${f.cpuMsPerQuery.gateway}, postgres ${f.cpuMsPerQuery.postgres}, load client ${f.cpuMsPerQuery.load}`,
      );
    }
    // The same FindDocuments from wrk, a C client whose own time does not count in the latency (bench/support/wrk.ts).
    const wrkFigures: { gateway?: WrkFigures; floor?: WrkFigures } = {};
    const withWrk = scenarios.has('find-documents') && hasWrk();
    const wrkRequests = findQueries.slice(0, WRK_REQUESTS);
    const findFromWrk = async (server: 'gateway' | 'floor', target: URL): Promise<void> => {
      const f = await runWrk({ url: target, requests: wrkRequests, connections: CONCURRENCY, threads: 2, seconds: SECONDS });
      wrkFigures[server] = f;
      console.log(
        `find-documents${server === 'floor' ? ' floor' : ''} from wrk (${CONCURRENCY} connections): ${f.throughput.toFixed(0)} q/s, p50 ${f.latencyMs.p50.toFixed(1)} ms, ` +
          `p90 ${f.latencyMs.p90.toFixed(1)} ms, p99 ${f.latencyMs.p99.toFixed(1)} ms, max ${f.latencyMs.max.toFixed(1)} ms, errors ${f.errors}/${f.requests}`,
      );
    };
    if (withWrk) {
      await findFromWrk('gateway', url);
    } else if (scenarios.has('find-documents')) {
      console.log('find-documents from wrk: wrk is not on this machine (Debian package wrk), skipped');
    }
    await gateway.stop();
    gateway = undefined;

    // The floors of FindDocuments, on the same data in the same run: what is left between them and the gateway is the gateway's own work.
    let pgbenchFloor: PgbenchFigures | undefined;
    if (scenarios.has('floor')) {
      const findPlan = plans[0]!;
      const vary = findPlan.params.indexOf(patientIdOf(7));
      floor = await startQueryFloor(
        { sql: findPlan.sql, params: findPlan.params, vary, pattern: "(\\d{15})\\^\\^\\^&amp;", suffix: '^^^&1.2.250.1.213.1.4.8&ISO', connections: databasePoolSize, processes: gatewayProcesses },
        env,
        port + 1,
      );
      const floorPid = floor.child.pid!;
      // As many server processes as the gateway had: the primary and what it forked.
      const floorPids = refreshedEvery(PROCESS_LIST_MS, () => withDescendants([floorPid]));
      const floorPostgres = new PostgresProcesses(databaseUrl, floorPids);
      const floorClient = queryClient(HTTP_CLIENT, new URL(`${floor.base}/xds/iti18`), CONCURRENCY);
      clients.push(floorClient);
      const floorFigures = await measure('find-documents-floor-http', CONCURRENCY, SECONDS * 1000, floorClient.prepare(findQueries), [
        { name: 'gateway', pids: floorPids },
        { name: 'postgres', pids: () => floorPostgres.list() },
        { name: 'load', pids: () => [process.pid] },
      ]);
      await floorPostgres.close();
      if (withWrk) await findFromWrk('floor', new URL(`${floor.base}/xds/iti18`));
      await floor.stop();
      floor = undefined;
      figures.push(floorFigures);
      console.log(
        `find-documents floor, bare HTTP server over pg (16 clients): ${floorFigures.throughput.toFixed(0)} q/s, p50 ${floorFigures.latencyMs.p50.toFixed(1)} ms, p99 ${floorFigures.latencyMs.p99.toFixed(1)} ms, ` +
          `${floorFigures.resultsPerQuery.toFixed(1)} entries/answer, errors ${floorFigures.errors}/${floorFigures.requests}; CPU ms/query: server ${floorFigures.cpuMsPerQuery.gateway}, postgres ${floorFigures.cpuMsPerQuery.postgres}, load client ${floorFigures.cpuMsPerQuery.load}`,
      );
      if (hasPgbench()) {
        const [{ id }] = (await db.query<{ id: string }>(`select ${PATIENT_ID_SQL.replaceAll(':k', '7')} as id`)) as [{ id: string }];
        if (id !== patientIdOf(7)) throw new Error(`PATIENT_ID_SQL gives ${id} for patient 7, patientIdOf gives ${patientIdOf(7)}`);
        // The patients of the gateway's requests (patientAt), in the same proportions.
        const key = `(:i * ${PATIENT_STRIDE}) % ${patients}`;
        pgbenchFloor = pgbench({ databaseUrl, schema, sql: findPlan.sql, params: findPlan.params, varyIndex: vary, vary: PATIENT_ID_SQL, iMax: PREBUILT_REQUESTS - 1, key, clients: CONCURRENCY, seconds: SECONDS });
        const l = pgbenchFloor.latencyMs;
        console.log(
          `find-documents floor, PostgreSQL alone (pgbench, 16 clients): ${pgbenchFloor.throughput.toFixed(0)} q/s, latency average ${pgbenchFloor.latencyMsAverage.toFixed(1)} ms, ` +
            `p50 ${l.p50.toFixed(1)} ms, p90 ${l.p90.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`,
        );
      } else {
        console.log('find-documents floor, PostgreSQL alone: pgbench is not on this machine, skipped');
      }
      const gatewayFind = figures.find((f) => f.scenario === 'find-documents');
      if (gatewayFind) {
        console.log(
          `the gateway reaches ${((100 * gatewayFind.throughput) / floorFigures.throughput).toFixed(0)} % of the bare HTTP floor` +
            (pgbenchFloor ? ` and ${((100 * gatewayFind.throughput) / pgbenchFloor.throughput).toFixed(0)} % of PostgreSQL alone` : ''),
        );
        // The tail goal (p99 ≤ 20 ms at 16 clients) against the same tail of what the gateway reads from.
        console.log(
          `p99 at 16 clients: gateway ${gatewayFind.latencyMs.p99.toFixed(1)} ms, bare HTTP floor ${floorFigures.latencyMs.p99.toFixed(1)} ms` +
            (pgbenchFloor ? `, PostgreSQL alone ${pgbenchFloor.latencyMs.p99.toFixed(1)} ms` : ''),
        );
      }
    }

    mkdirSync('bench/results', { recursive: true });
    // A run of some scenarios does not replace the figures of a whole one.
    const file = `bench/results/${new Date().toISOString().slice(0, 10)}-query${scenarios.size < SCENARIOS.length ? '-partial' : ''}.json`;
    writeFileSync(
      file,
      JSON.stringify(
        { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, httpClient: HTTP_CLIENT, gatewayProcesses, documents: Math.max(count, n), patients, seedSeconds, figures, wrk: wrkFigures, pgbenchFloor, plans: plans.map((p) => ({ sql: p.sql, plan: p.plan })) },
        null,
        2,
      ),
    );
    console.log(`figures written to ${file}`);
    const failed = figures.filter((f) => f.errors > 0).map((f) => `${f.scenario} ${f.errors} of ${f.requests}, the first: ${f.firstError}`);
    for (const [server, f] of Object.entries(wrkFigures)) if (f.errors > 0) failed.push(`find-documents from wrk (${server}) ${f.errors} of ${f.requests} not 2xx or lost`);
    if (failed.length) throw new Error(`queries failed: ${failed.join('; ')}`);
  } finally {
    await postgres?.close();
    await gateway?.stop();
    await floor?.stop();
    for (const client of clients) await client.close();
    if (!keep) await db.exec(`drop schema if exists "${schema}" cascade`);
    else console.log(`kept schema ${schema}`);
    await db.close();
    await dropTestState({ prefix: queuePrefix });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
