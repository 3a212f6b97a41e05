import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { request } from 'undici';
import { loadConfig, type Config } from '../../src/config.js';
import { openBackends, startGateway, type Backends, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log.js';
import { newPatientId } from './ids.js';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type RegistryMode = 'postgres' | 'pglite';

export interface TestGateway {
  url: string;
  config: Config;
  gateway: RunningGateway;
  backends: Backends;
  post(path: string, body: { contentType: string; body: Buffer | string }): Promise<HttpReply>;
  registerPatient(patientId: string): Promise<number>;
  close(): Promise<void>;
}

export interface HttpReply {
  status: number;
  contentType: string;
  body: Buffer;
  text: string;
}

/**
 * A gateway in this process with its own data dir, database schema (or PGlite) and Redis key
 * prefix, against the machine's real Redis and PostgreSQL; close() removes all of it.
 */
export async function startTestGateway(mode: RegistryMode, env: Record<string, string> = {}): Promise<TestGateway> {
  const tag = randomBytes(6).toString('hex');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: mode === 'postgres' ? PG_URL : '',
    DATABASE_SCHEMA: `t_${tag}`,
    REDIS_URL,
    QUEUE_PREFIX: `xdsgw-test-${tag}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WORKER_STALLED_INTERVAL_MS: '1000',
    SUBMISSION_TIMEOUT_MS: '15000',
    AUTHENTICATION: 'off',
    ...env,
  });
  const logger = createLogger(config.logLevel);
  const backends = await openBackends(config);
  const gateway = await startGateway(config, REDIS_URL, backends, logger);
  const url = gateway.url;

  return {
    url,
    config,
    gateway,
    backends,
    post: (p, b) => httpPost(url + p, b.contentType, b.body),
    async registerPatient(patientId) {
      const reply = await httpPost(`${url}/api/patients`, 'application/json', JSON.stringify({ patientId }));
      return reply.status;
    },
    async close() {
      await gateway.close();
      await backends.close();
      await dropTestState({ schema: mode === 'postgres' ? config.databaseSchema : undefined, prefix: config.queuePrefix });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A test gateway started before the suite and closed after it, with one registered patient; both are handed to `use`. */
export function withGatewayAndPatient(mode: RegistryMode, use: (gw: TestGateway, patientId: string) => void): void {
  let gw: TestGateway | undefined;
  before(async () => {
    gw = await startTestGateway(mode);
    const patientId = newPatientId();
    const status = await gw.registerPatient(patientId);
    if (status !== 201) throw new Error(`registering the test patient answered ${status}`);
    use(gw, patientId);
  });
  after(async () => {
    await gw?.close();
  });
}

export async function httpPost(url: string, contentType: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<HttpReply> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const buf = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: buf, text: buf.toString('utf8') };
}

export async function httpGet(url: string): Promise<HttpReply> {
  const res = await request(url);
  const buf = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: buf, text: buf.toString('utf8') };
}

/** Removes a test run's PostgreSQL schema and Redis keys. */
export async function dropTestState(opts: { schema?: string; prefix: string }): Promise<void> {
  if (opts.schema) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${opts.schema}" CASCADE`);
    } finally {
      await client.end();
    }
  }
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${opts.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Runs the same suite against PostgreSQL and against embedded PGlite. */
export function forEachRegistryMode(fn: (mode: RegistryMode) => void): void {
  for (const mode of ['postgres', 'pglite'] as const) fn(mode);
}
