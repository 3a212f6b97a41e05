import { createHash } from 'node:crypto';
import path from 'node:path';

/** Every setting of the gateway, read once from the environment. Each is documented in the README table. */
export interface Config {
  port: number;
  host: string;
  /** Directory under which the embedded defaults live (registry, content, redis). */
  dataDir: string;
  /** postgres://... ; unset means embedded PGlite in `<dataDir>/registry`. */
  databaseUrl?: string;
  /** PostgreSQL schema holding the registry tables. */
  databaseSchema: string;
  /** redis://... ; unset means 127.0.0.1:6379, or a private redis-server started under `<dataDir>/redis`. */
  redisUrl?: string;
  /** Prefix of every BullMQ key, so that several gateways (or test runs) can share one Redis. */
  queuePrefix: string;
  contentDir: string;
  repositoryUniqueId: string;
  homeCommunityId: string;
  /** Assigning authority of accepted patient ids (affinity domain). */
  patientAuthority: string;
  /** Largest request body accepted, bytes. */
  maxRequestBytes: number;
  /** How long an ITI-41 request waits for its submission to be registered before failing cleanly. */
  submissionTimeoutMs: number;
  /** Time allowed to receive a whole request body (slow clients are cut off). */
  requestTimeoutMs: number;
  /** Run store/index workers inside the gateway process (`npm start`); `npm run worker` runs them alone. */
  inProcessWorkers: boolean;
  workerConcurrency: number;
  /** BullMQ stalled-job check interval: a worker killed mid-job has its job taken over after this. */
  stalledIntervalMs: number;
  jobAttempts: number;
  /** Blobs older than this and not referenced by the registry are removed by the sweeper. */
  orphanGraceMs: number;
  logLevel: string;
  version: string;
}

export class ConfigError extends Error {}

const INS_NIR_OID = '1.2.250.1.213.1.4.8';

function int(env: NodeJS.ProcessEnv, name: string, def: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`${name} must be an integer >= ${min}, got '${raw}'`);
  return v;
}

function bool(env: NodeJS.ProcessEnv, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got '${raw}'`);
}

function oid(env: NodeJS.ProcessEnv, name: string, def: string): string {
  const v = env[name] || def;
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(v)) throw new ConfigError(`${name} must be an OID, got '${v}'`);
  return v;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, version = '0.0.0'): Config {
  const dataDir = path.resolve(env.DATA_DIR || 'data');
  const repositoryUniqueId = oid(env, 'REPOSITORY_UNIQUE_ID', '1.2.250.1.999.1.1.1');
  const home = env.HOME_COMMUNITY_ID || 'urn:oid:1.2.250.1.999.1.1';
  if (!/^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/.test(home)) {
    throw new ConfigError(`HOME_COMMUNITY_ID must be urn:oid:<OID>, got '${home}'`);
  }
  const schema = env.DATABASE_SCHEMA || 'xds';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new ConfigError(`DATABASE_SCHEMA must be a lower-case SQL identifier, got '${schema}'`);
  return {
    port: int(env, 'PORT', 8080),
    host: env.HOST || '0.0.0.0',
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: schema,
    redisUrl: env.REDIS_URL || undefined,
    queuePrefix: env.QUEUE_PREFIX || defaultQueuePrefix(env.DATABASE_URL, dataDir),
    contentDir: path.resolve(env.CONTENT_DIR || path.join(dataDir, 'content')),
    repositoryUniqueId,
    homeCommunityId: home,
    patientAuthority: oid(env, 'XDS_PATIENT_AUTHORITY', INS_NIR_OID),
    maxRequestBytes: int(env, 'MAX_REQUEST_BYTES', 64 * 1024 * 1024, 1024),
    submissionTimeoutMs: int(env, 'SUBMISSION_TIMEOUT_MS', 30_000, 100),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 60_000, 100),
    inProcessWorkers: bool(env, 'IN_PROCESS_WORKERS', true),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 8, 1),
    stalledIntervalMs: int(env, 'WORKER_STALLED_INTERVAL_MS', 5_000, 100),
    jobAttempts: int(env, 'JOB_ATTEMPTS', 5, 1),
    orphanGraceMs: int(env, 'ORPHAN_GRACE_MS', 60 * 60 * 1000, 0),
    logLevel: env.LOG_LEVEL || 'info',
    version,
  };
}

/**
 * With the embedded registry, each data dir is its own gateway: its jobs must never be taken by
 * another embedded gateway sharing the same local Redis, so the prefix is tied to the data dir.
 */
function defaultQueuePrefix(databaseUrl: string | undefined, dataDir: string): string {
  if (databaseUrl) return 'xdsgw';
  return `xdsgw-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
}
