/**
 * ITI-18 benchmark (`npm run bench -- query`): seeds a PostgreSQL registry in its own schema with
 * BENCH_DOCUMENTS document entries (default 1,000,000; `--documents N` when run directly) by
 * INSERT ... SELECT generate_series, checks the query plans with EXPLAIN, then starts the gateway
 * on that schema and drives it over HTTP with 16 concurrent clients:
 *   find-documents  FindDocuments, patient + classCode + creationTime range, LeafClass (~20 entries)
 *   get-documents   GetDocuments by one uniqueId, LeafClass
 * and both again with one client (-c1), which shows the service time of one query.
 * Figures go to bench/results/<date>-query.json. Set BENCH_KEEP_SCHEMA=1 to keep the seeded schema
 * (its name is printed) and BENCH_SCHEMA=<name> to reuse one.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { rimObjectTemplate } from '../src/ebrim/serialize.js';
import { ASSOCIATION_TYPE, OBJECT_TYPE, STATUS } from '../src/ebrim/uuids.js';
import { openDb, type Db } from '../src/registry/db.js';
import { migrate } from '../src/registry/migrate.js';
import { runStoredQuery } from '../src/registry/stored-queries/run.js';
import type { AdhocQuery } from '../src/ebrim/query-request.js';
import { makeDocumentEntry } from '../test/registry/factory.js';
import { dropTestState, PG_URL, REDIS_URL } from '../test/support/gateway.js';
import { buildIti18Request, queryList, queryString } from '../test/support/requests.js';
import { drive, type LoadFigures } from './support/drive.js';
import { PostgresProcesses, round, UsageSampler, type ProcessGroup } from './support/proc.js';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process.js';

const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';
const GET_DOCUMENTS = 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4';
const CONCURRENCY = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const DOCS_PER_PATIENT = 50;
const BATCH = 100_000;
const PATIENT_SUFFIX = '^^^&1.2.250.1.213.1.4.8&ISO';
const CLASS_SCHEME = '1.2.250.1.213.1.1.4.1';
/** The query window: creation times are spread over 2015-2024, the window covers 2018-2024 (70 %). */
const FROM = '2018';
const TO = '2025';

function documentCount(): number {
  const i = process.argv.indexOf('--documents');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.BENCH_DOCUMENTS;
  const n = raw === undefined ? 1_000_000 : Number(raw);
  if (!Number.isInteger(n) || n < DOCS_PER_PATIENT) throw new Error(`document count must be an integer >= ${DOCS_PER_PATIENT}, got '${raw}'`);
  return n;
}

const patientOf = (k: number): string => `${1_000_000_000_000 + k}${PATIENT_SUFFIX}`;
const uniqueIdOf = (i: number): string => `1.2.250.1.999.77.${i}`;

/** A full DocumentEntry in its stored ebRIM form and as rendered at commit, with placeholders the seed SQL fills per row. */
function rimTemplates(): { rim: string; xml: string } {
  const d = makeDocumentEntry({ patientId: '@PID@', uniqueId: '@UID@', title: 'Compte rendu de biologie' });
  return { rim: JSON.stringify(d.rim).replaceAll(d.id, '@ID@'), xml: rimObjectTemplate(d.rim).replaceAll(d.id, '@ID@') };
}

/**
 * Row i (1-based) belongs to patient i mod P and is that patient's (i div P)-th document: the class
 * code follows that rank (6 in 10 are class 10), the creation time a multiplicative hash of i.
 */
const SEED_SQL = `
with rows as (
  select i,
    'urn:uuid:' || md5('d' || i)::uuid as id,
    '1.2.250.1.999.77.' || i as uid,
    (1000000000000 + i % $3) || '${PATIENT_SUFFIX}' as pid,
    (i / $3) % 10 as rank,
    to_char(timestamp '2015-01-01' + make_interval(secs => (i::bigint * 2654435761) % 315360000), 'YYYYMMDDHH24MISS') as ct
  from generate_series($1::int, $2::int) as g(i)
), docs as (
  insert into document_entries (entry_uuid, logical_id, version, unique_id, patient_id, status, object_type, mime_type, hash, size,
    repository_unique_id, content_key, class_code, class_scheme, type_code, type_scheme, format_code, format_scheme,
    practice_setting_code, practice_setting_scheme, healthcare_facility_type_code, healthcare_facility_type_scheme,
    creation_time, service_start_time, service_stop_time, language_code, title, submission_set_uuid, rim, leaf_xml)
  select id, id, 1, uid, pid, '${STATUS.approved}', '${OBJECT_TYPE.stableDocumentEntry}', 'text/xml', substr(md5(uid) || md5(id), 1, 40), 40000 + i % 9000,
    '1.2.250.1.999.1.1.1', md5(uid) || md5(id),
    (array['10','10','10','10','10','10','11','11','31','31'])[rank + 1], '${CLASS_SCHEME}',
    (array['11502-2','11490-0','11502-2','18748-4','11502-2','11490-0','74207-2','74207-2','18748-4','18748-4'])[rank + 1], '2.16.840.1.113883.6.1',
    'urn:ihe:lab:xd-lab:2008', '1.3.6.1.4.1.19376.1.2.3', 'ETABLISSEMENT', '1.2.250.1.213.1.1.4.9', 'SA01', '1.2.250.1.71.4.2.4',
    ct, ct, ct, 'fr-FR', 'Compte rendu de biologie', 'urn:uuid:' || md5('s' || (i / 5))::uuid,
    replace(replace(replace($4::text, '@ID@', id), '@UID@', uid), '@PID@', pid)::jsonb,
    replace(replace(replace($5::text, '@ID@', id), '@UID@', uid), '@PID@', replace(pid, '&', '&amp;'))
  from rows
), codes as (
  insert into document_entry_codes (entry_uuid, kind, code, scheme)
  select id, 'confidentiality', 'N', '2.16.840.1.113883.5.25' from rows
), members as (
  insert into associations (entry_uuid, association_type, source_uuid, target_uuid, status, submission_set_uuid, rim)
  select 'urn:uuid:' || md5('a' || i)::uuid, '${ASSOCIATION_TYPE.hasMember}', 'urn:uuid:' || md5('s' || (i / 5))::uuid, id, '${STATUS.approved}',
    'urn:uuid:' || md5('s' || (i / 5))::uuid, '{}'::jsonb from rows
)
insert into document_entry_authors (entry_uuid, person, institutions, roles, specialties)
select id, (800000000000 + i % 5000) || '^AUTEUR' || (i % 5000) || '^Test^^^Dr^^^&1.2.250.1.71.4.2.1&ISO', '{}', '{}', '{}' from rows`;

async function seed(db: Db, n: number): Promise<number> {
  const patients = Math.max(1, Math.floor(n / DOCS_PER_PATIENT));
  const { rim, xml } = rimTemplates();
  const start = performance.now();
  for (let from = 1; from <= n; from += BATCH) {
    const to = Math.min(n, from + BATCH - 1);
    await db.query(SEED_SQL, [from, to, patients, rim, xml]);
    process.stdout.write(`\rseeded ${to.toLocaleString('en')} / ${n.toLocaleString('en')} document entries (${((performance.now() - start) / 1000).toFixed(0)} s)`);
  }
  process.stdout.write('\n');
  // As autovacuum leaves a live registry: visibility map set (index-only scans), hint bits written, statistics fresh.
  await db.exec('vacuum analyze');
  return patients;
}

const findDocuments = (patientId: string): AdhocQuery['slots'] => [
  { name: '$XDSDocumentEntryPatientId', values: [queryString(patientId)] },
  { name: '$XDSDocumentEntryClassCode', values: [queryList(`10^^${CLASS_SCHEME}`)] },
  { name: '$XDSDocumentEntryCreationTimeFrom', values: [FROM] },
  { name: '$XDSDocumentEntryCreationTimeTo', values: [TO] },
  { name: '$XDSDocumentEntryStatus', values: [queryList(STATUS.approved)] },
];

/** Runs a query through the real executor on a Db that EXPLAINs each statement instead; returns the plans. */
async function explain(db: Db, query: AdhocQuery): Promise<{ sql: string; plan: string[]; seqScans: string[] }[]> {
  const plans: { sql: string; plan: string[]; seqScans: string[] }[] = [];
  const explaining: Db = {
    ...db,
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      const rows = await db.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers off) ${sql}`, params);
      const plan = rows.map((r) => r['QUERY PLAN']);
      plans.push({ sql, plan, seqScans: plan.filter((l) => /Seq Scan on (document_entries|associations|document_entry_\w+)\b/.test(l)) });
      return [];
    },
  };
  await runStoredQuery(explaining, query, { maxResults: 1000, homeCommunityId: 'urn:oid:1.2.250.1.999.1.1' });
  return plans;
}

interface Figures extends LoadFigures {
  resultsPerQuery: number;
  /** CPU milliseconds per query of the gateway, of PostgreSQL (its backends and WAL/checkpoint processes) and of this load client. */
  cpuMsPerQuery: Record<string, number>;
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
): Promise<Figures> {
  const usage = new UsageSampler(groups, {});
  await usage.start();
  const { figures, total } = await drive(scenario, concurrency, durationMs, run);
  const used = await usage.stop();
  const ok = figures.requests - figures.errors;
  const cpuMsPerQuery = Object.fromEntries(Object.entries(used.groups).map(([name, g]) => [name, figures.requests ? round((1000 * g.cpuSeconds) / figures.requests, 3) : 0]));
  return { ...figures, resultsPerQuery: ok ? total / ok : 0, cpuMsPerQuery };
}

const SUCCESS = Buffer.from('ResponseStatusType:Success"');
const EXTRINSIC_OBJECT = Buffer.from('<rim:ExtrinsicObject ');

/** How many times `needle` occurs in `haystack` (a native search: the client must not eat the CPU the gateway needs). */
function occurrences(haystack: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** The number of ExtrinsicObjects of a Success answer; undefined for anything else. The answer is read as bytes, never decoded. */
async function postQuery(agent: Agent, url: string, body: { contentType: string; body: Buffer }): Promise<number | undefined> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': body.contentType }, body: body.body, dispatcher: agent });
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  const answer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  // The response status comes first: within the first kilobyte of the envelope.
  if (res.statusCode !== 200 || answer.subarray(0, 2048).indexOf(SUCCESS) === -1) return undefined;
  return occurrences(answer, EXTRINSIC_OBJECT);
}

/** Request bodies built before the clock starts, so that the load generator spends its CPU on sending and reading only. */
function prebuilt(count: number, build: (i: number) => { contentType: string; body: Buffer }): (i: number) => { contentType: string; body: Buffer } {
  const bodies = Array.from({ length: count }, (_, i) => build(i));
  return (i) => bodies[i % count]!;
}

const PREBUILT_REQUESTS = 16_384;

async function main(): Promise<void> {
  const n = documentCount();
  const tag = randomBytes(4).toString('hex');
  const reuse = process.env.BENCH_SCHEMA;
  const schema = reuse ?? `bench_query_${tag}`;
  const keep = Boolean(reuse) || process.env.BENCH_KEEP_SCHEMA === '1';
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? PG_URL;
  const db = await openDb({ databaseUrl, schema, poolSize: 2, statementTimeoutMs: 600_000 });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-bench-query-'));
  const queuePrefix = `xdsgw-bench-${tag}`;
  let gateway: GatewayProcess | undefined;
  let postgres: PostgresProcesses | undefined;
  const agent = new Agent({ connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 30_000 });
  try {
    await migrate(db);
    const [{ count }] = (await db.query<{ count: number }>('select count(*)::int as count from document_entries')) as [{ count: number }];
    const seedStart = performance.now();
    const patients = count >= n ? Math.floor(count / DOCS_PER_PATIENT) : await seed(db, n);
    const seedSeconds = count >= n ? 0 : (performance.now() - seedStart) / 1000;
    console.log(`registry schema ${schema}: ${Math.max(count, n).toLocaleString('en')} document entries, ${patients.toLocaleString('en')} patients${seedSeconds ? `, seeded in ${seedSeconds.toFixed(0)} s` : ''}`);

    const plans = [
      ...(await explain(db, { queryId: FIND_DOCUMENTS, returnType: 'LeafClass', slots: findDocuments(patientOf(7)) })),
      ...(await explain(db, { queryId: GET_DOCUMENTS, returnType: 'LeafClass', slots: [{ name: '$XDSDocumentEntryUniqueId', values: [queryList(uniqueIdOf(12345))] }] })),
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
    const gatewayPid = gateway.child.pid!;
    postgres = new PostgresProcesses(databaseUrl, () => [gatewayPid]);
    const groups: ProcessGroup[] = [
      { name: 'gateway', pids: () => [gatewayPid] },
      { name: 'postgres', pids: () => postgres!.list() },
      { name: 'load', pids: () => [process.pid] },
    ];
    const url = `${gateway.base}/xds/iti18`;
    const patientAt = (i: number): string => patientOf((i * 7919) % patients);
    const findRequest = prebuilt(PREBUILT_REQUESTS, (i) =>
      buildIti18Request({ queryId: FIND_DOCUMENTS, params: Object.fromEntries(findDocuments(patientAt(i)).map((s) => [s.name, s.values[0]!])) }),
    );
    const getRequest = prebuilt(PREBUILT_REQUESTS, (i) => buildIti18Request({ queryId: GET_DOCUMENTS, params: { $XDSDocumentEntryUniqueId: queryList(uniqueIdOf(1 + ((i * 104729) % n))) } }));
    const find = (i: number) => postQuery(agent, url, findRequest(i));
    const get = (i: number) => postQuery(agent, url, getRequest(i));

    await drive('warm-up', CONCURRENCY, 3000, (i) => (i % 2 ? find(i) : get(i)));
    const figures: Figures[] = [];
    // One client shows the service time of a query; sixteen, the throughput and tail latency under load.
    for (const [name, concurrency, run] of [
      ['find-documents', CONCURRENCY, find],
      ['get-documents', CONCURRENCY, get],
      ['find-documents-c1', 1, find],
      ['get-documents-c1', 1, get],
    ] as const) {
      const f = await measure(name, concurrency, SECONDS * 1000, run, groups);
      figures.push(f);
      console.log(
        `${name} (${concurrency} client${concurrency > 1 ? 's' : ''}): ${f.throughput.toFixed(0)} q/s, p50 ${f.latencyMs.p50.toFixed(1)} ms, p95 ${f.latencyMs.p95.toFixed(1)} ms, p99 ${f.latencyMs.p99.toFixed(1)} ms, max ${f.latencyMs.max.toFixed(1)} ms, ${f.resultsPerQuery.toFixed(1)} entries/answer, errors ${f.errors}/${f.requests}; ` +
          `CPU ms/query: gateway ${f.cpuMsPerQuery.gateway}, postgres ${f.cpuMsPerQuery.postgres}, load client ${f.cpuMsPerQuery.load}`,
      );
    }
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/${new Date().toISOString().slice(0, 10)}-query.json`;
    writeFileSync(
      file,
      JSON.stringify(
        { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, documents: Math.max(count, n), patients, seedSeconds, figures, plans: plans.map((p) => ({ sql: p.sql, plan: p.plan })) },
        null,
        2,
      ),
    );
    console.log(`figures written to ${file}`);
  } finally {
    await postgres?.close();
    await gateway?.stop();
    await agent.close();
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
