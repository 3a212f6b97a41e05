import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import pg from 'pg';
import { request } from 'undici';
import { ContentStore } from '../../src/content/store.js';
import { sweepOrphans } from '../../src/content/sweeper.js';
import { openDb } from '../../src/registry/db.js';
import { Registry } from '../../src/registry/registry.js';
import type { HttpReply } from '../support/gateway.js';
import { buildIti41Request, buildIti43Request, makeLabResult, type Iti41Request } from '../support/requests.js';
import { retrieveResult, submissionResult } from '../support/responses.js';
import { missingStoredBytes, STORED_BYTES_COLUMNS, type StoredBytesRow } from '../support/stored-bytes.js';

const run = promisify(execFile);

/** The answers a submission may get while a backend is failing: each says nothing was registered. */
export const CLEAN_ERRORS = ['XDSRegistryNotAvailable', 'XDSRepositoryError', 'XDSRepositoryOutOfResources', 'XDSRegistryBusy', 'XDSRepositoryBusy'];

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch((err: Error) => (/process exited/.test(err.message) ? Promise.reject(err) : false))) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A backing service owned by one test: it may be stopped and started again on the same port and data. */
export interface OwnService {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** A private redis-server (append-only file, fsync on every write) in a temp dir; stop() kills it like a crash. */
export async function startOwnRedis(): Promise<OwnService> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-fault-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
    await until('redis to answer', async () => {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    });
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  // If the test run is cut short, its private redis-server must not outlive it.
  const onExit = (): void => void child?.kill('SIGKILL');
  process.once('exit', onExit);
  return {
    url,
    start,
    stop,
    dispose: async () => {
      process.off('exit', onExit);
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private PostgreSQL cluster (initdb + pg_ctl, as the postgres user) in a temp dir; stop() is an immediate shutdown. */
export async function startOwnPostgres(): Promise<OwnService> {
  const bin = path.join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort().pop()!, 'bin');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-fault-pg-'));
  const data = path.join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    for (const d of [dir, data]) chownSync(d, Number(stdout.trim()), Number(gid.trim()));
  }
  const pgRun = (tool: string, args: string[]) => (asPostgres ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args));
  const port = await freePort();
  await pgRun('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const start = async (): Promise<void> => {
    await pgRun('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-o', opts, '-w', '-t', '30', 'start']);
  };
  const stop = async (): Promise<void> => {
    await pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  };
  await start();
  const onExit = (): void => {
    const args = ['-D', data, '-m', 'immediate', 'stop'];
    try {
      if (asPostgres) execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), ...args], { stdio: 'ignore' });
      else execFileSync(path.join(bin, 'pg_ctl'), args, { stdio: 'ignore' });
    } catch {
      // Already stopped.
    }
  };
  process.once('exit', onExit);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    dispose: async () => {
      process.off('exit', onExit);
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Deployment {
  dataDir: string;
  contentDir: string;
  env: Record<string, string>;
}

/** Settings shared by the gateway and worker processes of one fault test. */
export function deployment(redisUrl: string, databaseUrl: string, extra: Record<string, string> = {}): Deployment {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-fault-data-'));
  const contentDir = path.join(dataDir, 'content');
  return {
    dataDir,
    contentDir,
    env: {
      DATA_DIR: dataDir,
      CONTENT_DIR: contentDir,
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: 'xds',
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: `fault${process.pid}`,
      IN_PROCESS_WORKERS: 'false',
      AUTHENTICATION: 'off',
      WORKER_STALLED_INTERVAL_MS: '1000',
      SUBMISSION_TIMEOUT_MS: '8000',
      JOB_ATTEMPTS: '10',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...extra,
    },
  };
}

const spawned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of spawned) if (c.exitCode === null) c.kill('SIGKILL');
});

function spawnNode(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  return child;
}

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** `npm start` as a real process, on a free port; resolves once /health answers. */
export async function spawnGateway(d: Deployment, extra: Record<string, string> = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawnNode('src/main.ts', { ...d.env, PORT: String(port), ...extra });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  await until(
    'the gateway to answer /health',
    async () => {
      if (child.exitCode !== null) throw new Error(`the gateway process exited with code ${child.exitCode} at start-up`);
      return (await request(`${url}/health`)).statusCode === 200;
    },
    30_000,
  );
  return { url, child, exited };
}

/** `npm run worker` as a real process. */
export function spawnWorker(d: Deployment): ChildProcess {
  return spawnNode('src/worker-main.ts', d.env);
}

export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

export async function registerPatient(url: string, patientId: string): Promise<void> {
  const res = await request(`${url}/api/patients`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ patientId }) });
  await res.body.dump();
  expect(res.statusCode).to.be.oneOf([201, 409]);
}

export interface Outcome {
  req: Iti41Request;
  docs: Buffer[];
  /** 'NoAnswer' when the connection broke (the gateway died): nothing was acknowledged. */
  status: 'Success' | 'Failure' | 'NoAnswer';
  codes: string[];
  ms: number;
}

async function post(url: string, contentType: string, body: Buffer, timeoutMs: number): Promise<HttpReply> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': contentType }, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const buf = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: buf, text: buf.toString('utf8') };
}

/** One ITI-41 submission of two documents; a hang past `timeoutMs` fails the test. */
export async function submit(url: string, patientId: string, timeoutMs = 20_000, sizeKb = 6): Promise<Outcome> {
  const docs = [makeLabResult(patientId, { sizeKb }), makeLabResult(patientId, { sizeKb: 3 })];
  const req = buildIti41Request({ patientId, documents: docs.map((bytes) => ({ bytes })) }, 'mtom');
  const t0 = Date.now();
  let reply: HttpReply;
  try {
    reply = await post(`${url}/xds/iti41`, req.contentType, req.body, timeoutMs);
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (/TIMEOUT/.test(code)) throw new Error(`submission hung for more than ${timeoutMs} ms`);
    return { req, docs, status: 'NoAnswer', codes: [code], ms: Date.now() - t0 };
  }
  const result = submissionResult(reply);
  return { req, docs, status: result.status as Outcome['status'], codes: result.errors.map((e) => e.code), ms: Date.now() - t0 };
}

/** Submissions one after the other until stop() (or concurrently `lanes` at a time). */
export function submitContinuously(url: () => string, patientId: string, lanes = 2): { outcomes: Outcome[]; stop(): Promise<Outcome[]> } {
  const outcomes: Outcome[] = [];
  let running = true;
  const lane = async (): Promise<void> => {
    while (running) {
      outcomes.push(await submit(url(), patientId));
      await sleep(20);
    }
  };
  const all = Promise.all(Array.from({ length: lanes }, lane));
  return {
    outcomes,
    async stop() {
      running = false;
      await all;
      return outcomes;
    },
  };
}

/**
 * What must hold after any fault, once the services are back: each answer was Success or a clean
 * error; every Success is retrievable byte-identical; every submission is registered whole or not
 * at all; no entry lacks its bytes; no duplicate; after a sweep, no blob is left unreferenced.
 */
export async function checkInvariants(o: { url: string; databaseUrl: string; contentDir: string; outcomes: Outcome[]; allowNoAnswer?: boolean; schema?: string }): Promise<void> {
  const schema = o.schema ?? 'xds';
  for (const out of o.outcomes) {
    if (out.status === 'Success') continue;
    if (out.status === 'NoAnswer') {
      expect(o.allowNoAnswer, `no answer (${out.codes.join()}) although the gateway stayed up`).to.equal(true);
      continue;
    }
    expect(out.codes.length).to.be.greaterThan(0);
    for (const code of out.codes) expect(CLEAN_ERRORS, `unexpected error ${code}`).to.include(code);
  }

  const client = new pg.Client({ connectionString: o.databaseUrl });
  await client.connect();
  const db = await openDb({ databaseUrl: o.databaseUrl, pgliteDir: '', schema });
  try {
    const registered = async (uniqueIds: string[]): Promise<number> =>
      Number((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${schema}".document_entries WHERE unique_id = any($1::text[])`, [uniqueIds])).rows[0]!.n);
    for (const out of o.outcomes) {
      const n = await registered(out.req.uniqueIds.documents);
      if (out.status === 'Success') expect(n, 'an acknowledged submission is registered whole').to.equal(out.docs.length);
      else if (out.status === 'Failure') expect(n, `a failed submission (${out.codes.join()}) registered nothing`).to.equal(0);
      else expect(n, 'an unanswered submission is registered whole or not at all').to.be.oneOf([0, out.docs.length]);
    }

    const successes = o.outcomes.filter((x) => x.status === 'Success');
    for (const out of successes) {
      const reply = await post(
        `${o.url}/xds/iti43`,
        ...(() => {
          const r = buildIti43Request(out.req.uniqueIds.documents.map((documentUniqueId) => ({ repositoryUniqueId: '1.2.250.1.999.1.1.1', documentUniqueId })));
          return [r.contentType, r.body] as const;
        })(),
        20_000,
      );
      const got = retrieveResult(reply);
      expect(got.status, reply.text.slice(0, 500)).to.equal('Success');
      expect(got.documents.map((d) => d.bytes.toString('base64'))).to.deep.equal(out.docs.map((d) => d.toString('base64')));
    }

    const dup = await client.query(`SELECT unique_id FROM "${schema}".document_entries GROUP BY unique_id, version HAVING count(*) > 1`);
    expect(dup.rows, 'no duplicate entry').to.deep.equal([]);
    const sets = await client.query(`SELECT unique_id FROM "${schema}".submission_sets GROUP BY unique_id HAVING count(*) > 1`);
    expect(sets.rows).to.deep.equal([]);

    const store = await ContentStore.open(o.contentDir);
    const keys = await client.query<StoredBytesRow & { content_key: string }>(`SELECT ${STORED_BYTES_COLUMNS} FROM "${schema}".document_entries`);
    expect(await missingStoredBytes(keys.rows, store)).to.deep.equal([]);

    const registry = new Registry(db);
    await sweepOrphans(store, (k) => registry.referencedContentKeys(k), 0);
    const referenced = new Set(keys.rows.map((r) => r.content_key));
    for await (const blob of store.listOlderThan(0)) expect(referenced.has(blob.key), `orphan blob ${blob.key} left after the sweep`).to.equal(true);
  } finally {
    await client.end();
    await db.close();
  }
}

/** A fresh database in a (private) cluster, so that each fault test starts from an empty registry. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return serverUrl.replace(/\/[^/]*$/, `/${name}`);
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** With FAULT_REPORT=1, prints what the submissions got (for the closing note's table). */
export function report(title: string, outcomes: Outcome[]): void {
  if (!process.env.FAULT_REPORT) return;
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.status === 'Success' ? 'Success' : `${o.status}(${o.codes.join('+')})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const slowest = Math.max(...outcomes.map((o) => o.ms));
  console.log(`      [${title}] ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}; slowest answer ${slowest} ms`);
}
