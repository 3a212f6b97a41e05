import { createHash } from 'node:crypto';
import os from 'node:os';
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
  /** Connections each process keeps to PostgreSQL (gateway or worker process). */
  databasePoolSize: number;
  /** redis://... ; unset means 127.0.0.1:6379, or a private redis-server started under `<dataDir>/redis`. */
  redisUrl?: string;
  /** Prefix of every BullMQ key, so that several gateways (or test runs) can share one Redis. */
  queuePrefix: string;
  contentDir: string;
  repositoryUniqueId: string;
  /** Repositories whose documents ITI-42 may register (KNOWN_REPOSITORY_IDS), this gateway's own always first. */
  knownRepositoryIds: string[];
  /** ITI-62 without an authenticated caller: refused unless this is set (DELETE_WITHOUT_CALLER_IDENTITY). */
  deleteWithoutCallerIdentity: boolean;
  homeCommunityId: string;
  /** Assigning authority of accepted patient ids (affinity domain). */
  patientAuthority: string;
  /** Largest request body accepted, bytes. */
  maxRequestBytes: number;
  /** How long an ITI-41 request waits for its submission to be registered before failing cleanly. */
  submissionTimeoutMs: number;
  /** Time allowed to receive a whole request body (slow clients are cut off). */
  requestTimeoutMs: number;
  /** Run the submission workers inside the gateway process (`npm start`); `npm run worker` runs them alone. */
  inProcessWorkers: boolean;
  /** Gateway processes sharing the port (node:cluster); more than one needs DATABASE_URL. */
  gatewayProcesses: number;
  workerConcurrency: number;
  /** BullMQ stalled-job check interval: a worker killed mid-job has its job taken over after this. */
  stalledIntervalMs: number;
  jobAttempts: number;
  /** Blobs older than this and not referenced by the registry are removed by the sweeper. */
  orphanGraceMs: number;
  /** Most objects an ITI-18 LeafClass answer may hold; above it XDSTooManyResults. */
  storedQueryMaxResults: number;
  /** CDA schema set used to validate documents: unset = our own schemas/cda; CDA_SCHEMA_ROOT names its root XSD. */
  cdaSchemaDir?: string;
  cdaSchemaRoot?: string;
  /** A CDA document of a type cda-templates/ does not describe: accepted after schema validation, or refused (CDA_UNKNOWN_TYPE). */
  cdaUnknownType: 'accept' | 'refuse';
  /** Submissions one gateway process handles at once before answering Busy; 0 = no limit. */
  maxInflightSubmissions: number;
  /** Submissions waiting in the queue above which new ones are answered Busy; 0 = no limit. */
  maxQueueDepth: number;
  /** TLS server certificate and key (PEM); both unset = plain HTTP. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** CA (PEM) that client certificates must chain to. */
  tlsCaFile?: string;
  /** Client certificates: required (mutual TLS), optional (checked when sent) or none. */
  tlsClientAuth: 'required' | 'optional' | 'none';
  /** IHE DSG signature of every accepted ITI-41 submission (SIGNING=on|off). */
  signing: boolean;
  /** Signing key and certificate (+ chain) as PEM files, or one PKCS#12 file; none = a development key in `<dataDir>/signing`. */
  signingKeyFile?: string;
  signingCertFile?: string;
  signingP12File?: string;
  signingP12Password?: string;
  /** Directory of PEM CA certificates that signatures (incoming and on demand) must chain to. */
  signatureTrustDir?: string;
  /** Name of the organisation that signs, the author of the signature DocumentEntry. */
  signingOrganization: string;
  /** SAML/VIHF authentication of SOAP callers: required, or off (explicit, warned at start-up). */
  authentication: 'required' | 'off';
  /** PEM files or directories of the identity providers' signing certificates (VIHF_IDP_CERTS, comma-separated). */
  vihfIdpCerts: string[];
  /** The audience assertions must name (VIHF_AUDIENCE); unset: assertions must carry no AudienceRestriction. */
  vihfAudience?: string;
  /** Clock difference tolerated on NotBefore/NotOnOrAfter, seconds. */
  vihfClockSkewSeconds: number;
  /** Verified assertions remembered by ID and content, so a repeated token costs no signature check. */
  vihfCacheSize: number;
  /** HMAC secret of the patients' session tokens (PATIENT_TOKEN_SECRET); unset: the patient API is closed. */
  patientTokenSecret?: string;
  /** Bearer key of the trusted front end (FRONT_END_KEY): issues patient session tokens, opens records for the other consent channels. */
  frontEndKey?: string;
  patientTokenTtlSeconds: number;
  /** Years a closed record is kept before the purge removes it. */
  recordRetentionYears: number;
  /** Audit repository: tls://host:port for syslog over TLS (RFC 5425); unset: audit kept in the database only. */
  auditSyslogUrl?: string;
  auditSyslogCaFile?: string;
  /** AuditSourceIdentification AuditSourceID of the audit messages. */
  auditSourceId: string;
  /** Web console: key of the operators' view (CONSOLE_OPERATOR_KEY, ≥ 24 characters); unset: the operator view is closed. */
  consoleOperatorKey?: string;
  /** HMAC secret of the console's session cookies (CONSOLE_SESSION_SECRET); unset: a random one per process. */
  consoleSessionSecret?: string;
  /** Lifetime of a console session, seconds (CONSOLE_SESSION_TTL_SECONDS). */
  consoleSessionTtlSeconds: number;
  /** Bearer token that GET /metrics requires (METRICS_TOKEN, ≥ 16 characters); unset: /metrics is open. */
  metricsToken?: string;
  /** Port of the /metrics endpoint of a standalone worker process (METRICS_PORT); unset: the worker serves none. */
  metricsPort?: number;
  logLevel: string;
  version: string;
}

export class ConfigError extends Error {}

/** The INS-NIR assigning authority: the national patient identifier (XDS_PATIENT_AUTHORITY by default). */
export const INS_NIR_OID = '1.2.250.1.213.1.4.8';

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

/** A comma-separated list of OIDs, with `first` always included and first. */
function oidList(env: NodeJS.ProcessEnv, name: string, first: string): string[] {
  const values = (env[name] ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  for (const v of values) if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(v)) throw new ConfigError(`${name} must be comma-separated OIDs, got '${v}'`);
  return [...new Set([first, ...values])];
}

/** A registry schema name: a lower-case SQL identifier, written into SQL without quoting. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, version = '0.0.0'): Config {
  const dataDir = path.resolve(env.DATA_DIR || 'data');
  const repositoryUniqueId = oid(env, 'REPOSITORY_UNIQUE_ID', '1.2.250.1.999.1.1.1');
  const home = env.HOME_COMMUNITY_ID || 'urn:oid:1.2.250.1.999.1.1';
  if (!/^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/.test(home)) {
    throw new ConfigError(`HOME_COMMUNITY_ID must be urn:oid:<OID>, got '${home}'`);
  }
  const schema = env.DATABASE_SCHEMA || 'xds';
  if (!SCHEMA_NAME.test(schema)) throw new ConfigError(`DATABASE_SCHEMA must be a lower-case SQL identifier, got '${schema}'`);
  const processes = gatewayProcesses(env);
  return {
    port: int(env, 'PORT', 8080),
    host: env.HOST || '0.0.0.0',
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: schema,
    databasePoolSize: databasePoolSize(env, processes),
    redisUrl: env.REDIS_URL || undefined,
    queuePrefix: env.QUEUE_PREFIX || defaultQueuePrefix(env.DATABASE_URL, dataDir),
    contentDir: path.resolve(env.CONTENT_DIR || path.join(dataDir, 'content')),
    repositoryUniqueId,
    knownRepositoryIds: oidList(env, 'KNOWN_REPOSITORY_IDS', repositoryUniqueId),
    deleteWithoutCallerIdentity: bool(env, 'DELETE_WITHOUT_CALLER_IDENTITY', false),
    homeCommunityId: home,
    patientAuthority: oid(env, 'XDS_PATIENT_AUTHORITY', INS_NIR_OID),
    maxRequestBytes: int(env, 'MAX_REQUEST_BYTES', 64 * 1024 * 1024, 1024),
    submissionTimeoutMs: int(env, 'SUBMISSION_TIMEOUT_MS', 30_000, 100),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 60_000, 100),
    inProcessWorkers: bool(env, 'IN_PROCESS_WORKERS', true),
    gatewayProcesses: processes,
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 8, 1),
    stalledIntervalMs: int(env, 'WORKER_STALLED_INTERVAL_MS', 5_000, 100),
    jobAttempts: int(env, 'JOB_ATTEMPTS', 5, 1),
    orphanGraceMs: int(env, 'ORPHAN_GRACE_MS', 60 * 60 * 1000, 0),
    storedQueryMaxResults: int(env, 'STORED_QUERY_MAX_RESULTS', 1000, 1),
    cdaSchemaDir: env.CDA_SCHEMA_DIR ? path.resolve(env.CDA_SCHEMA_DIR) : undefined,
    cdaSchemaRoot: env.CDA_SCHEMA_ROOT || undefined,
    cdaUnknownType: cdaUnknownType(env),
    maxInflightSubmissions: int(env, 'MAX_INFLIGHT_SUBMISSIONS', 64, 0),
    maxQueueDepth: int(env, 'MAX_QUEUE_DEPTH', 1000, 0),
    ...tlsSettings(env),
    signing: bool(env, 'SIGNING', true),
    signingKeyFile: env.SIGNING_KEY_FILE ? path.resolve(env.SIGNING_KEY_FILE) : undefined,
    signingCertFile: env.SIGNING_CERT_FILE ? path.resolve(env.SIGNING_CERT_FILE) : undefined,
    signingP12File: env.SIGNING_P12_FILE ? path.resolve(env.SIGNING_P12_FILE) : undefined,
    signingP12Password: env.SIGNING_P12_PASSWORD || undefined,
    signatureTrustDir: env.SIGNATURE_TRUST_DIR ? path.resolve(env.SIGNATURE_TRUST_DIR) : undefined,
    signingOrganization: env.SIGNING_ORGANIZATION || 'XDS gateway',
    ...policySettings(env),
    ...consoleSettings(env),
    ...metricsSettings(env),
    logLevel: env.LOG_LEVEL || 'info',
    version,
  };
}

/** Authentication, patient tokens, record retention and audit (issue 7). */
function policySettings(env: NodeJS.ProcessEnv): Pick<
  Config,
  | 'authentication' | 'vihfIdpCerts' | 'vihfAudience' | 'vihfClockSkewSeconds' | 'vihfCacheSize' | 'patientTokenSecret'
  | 'frontEndKey' | 'patientTokenTtlSeconds' | 'recordRetentionYears' | 'auditSyslogUrl' | 'auditSyslogCaFile' | 'auditSourceId'
> {
  const authentication = env.AUTHENTICATION || 'required';
  if (authentication !== 'required' && authentication !== 'off') throw new ConfigError(`AUTHENTICATION must be required or off, got '${authentication}'`);
  const syslog = env.AUDIT_SYSLOG_URL || undefined;
  if (syslog && !/^tls:\/\/[^:/\s]+:\d{1,5}$/.test(syslog)) throw new ConfigError(`AUDIT_SYSLOG_URL must be tls://host:port, got '${syslog}'`);
  const secret = env.PATIENT_TOKEN_SECRET || undefined;
  if (secret && secret.length < 32) throw new ConfigError('PATIENT_TOKEN_SECRET must be at least 32 characters');
  if (env.FRONT_END_KEY && env.FRONT_END_KEY.length < 24) throw new ConfigError('FRONT_END_KEY must be at least 24 characters');
  return {
    authentication,
    vihfIdpCerts: (env.VIHF_IDP_CERTS ?? '').split(',').map((v) => v.trim()).filter(Boolean).map((v) => path.resolve(v)),
    vihfAudience: env.VIHF_AUDIENCE || undefined,
    vihfClockSkewSeconds: int(env, 'VIHF_CLOCK_SKEW_SECONDS', 120, 0),
    vihfCacheSize: int(env, 'VIHF_CACHE_SIZE', 10_000, 1),
    patientTokenSecret: secret,
    frontEndKey: env.FRONT_END_KEY || undefined,
    patientTokenTtlSeconds: int(env, 'PATIENT_TOKEN_TTL_SECONDS', 900, 1),
    recordRetentionYears: int(env, 'RECORD_RETENTION_YEARS', 10, 1),
    auditSyslogUrl: syslog,
    auditSyslogCaFile: env.AUDIT_SYSLOG_CA_FILE ? path.resolve(env.AUDIT_SYSLOG_CA_FILE) : undefined,
    auditSourceId: env.AUDIT_SOURCE_ID || 'dmp-xds-gateway',
  };
}

/** The web console at /console (issue 10). */
function consoleSettings(env: NodeJS.ProcessEnv): Pick<Config, 'consoleOperatorKey' | 'consoleSessionSecret' | 'consoleSessionTtlSeconds'> {
  const operatorKey = env.CONSOLE_OPERATOR_KEY || undefined;
  if (operatorKey && operatorKey.length < 24) throw new ConfigError('CONSOLE_OPERATOR_KEY must be at least 24 characters');
  const secret = env.CONSOLE_SESSION_SECRET || undefined;
  if (secret && secret.length < 32) throw new ConfigError('CONSOLE_SESSION_SECRET must be at least 32 characters');
  return { consoleOperatorKey: operatorKey, consoleSessionSecret: secret, consoleSessionTtlSeconds: int(env, 'CONSOLE_SESSION_TTL_SECONDS', 1800, 60) };
}

/** Prometheus /metrics (issue 10). */
function metricsSettings(env: NodeJS.ProcessEnv): Pick<Config, 'metricsToken' | 'metricsPort'> {
  const token = env.METRICS_TOKEN || undefined;
  if (token && !/^[\x21-\x7e]{16,}$/.test(token)) throw new ConfigError('METRICS_TOKEN must be at least 16 printable characters without spaces');
  const port = env.METRICS_PORT ? int(env, 'METRICS_PORT', 0, 0) : undefined;
  if (port !== undefined && port > 65535) throw new ConfigError(`METRICS_PORT must be a port number, got '${env.METRICS_PORT}'`);
  return { metricsToken: token, metricsPort: port };
}

/** GATEWAY_PROCESSES: a count, or `auto` for one per CPU the process may use. PGlite is one process only. */
function gatewayProcesses(env: NodeJS.ProcessEnv): number {
  const n = env.GATEWAY_PROCESSES === 'auto' ? os.availableParallelism() : int(env, 'GATEWAY_PROCESSES', 1, 1);
  if (n > 1 && !env.DATABASE_URL) {
    throw new ConfigError('GATEWAY_PROCESSES above 1 needs DATABASE_URL: the embedded PGlite registry can be opened by one process only');
  }
  return n;
}

/**
 * DATABASE_POOL_SIZE: a count, or `auto` (the default): two connections per CPU for the gateway processes
 * together, at least 2 per process. PostgreSQL on two cores answered the FindDocuments statement 2,415 times/s
 * from 4 connections and 1,715 from 16 (pgbench), and the gateway with 2 connections per process (4 in all)
 * served 19-28 % more than with 10 (docs/registry.md, ninth session): statements that wait their turn in the
 * pool cost the database less than statements that contend inside it. A database on a larger server of its
 * own is given more by setting the count.
 */
function databasePoolSize(env: NodeJS.ProcessEnv, processes: number): number {
  const raw = env.DATABASE_POOL_SIZE;
  if (raw === undefined || raw === '' || raw === 'auto') return Math.max(2, Math.ceil((2 * os.availableParallelism()) / processes));
  return int(env, 'DATABASE_POOL_SIZE', 0, 1);
}

function cdaUnknownType(env: NodeJS.ProcessEnv): 'accept' | 'refuse' {
  const v = env.CDA_UNKNOWN_TYPE || 'accept';
  if (v !== 'accept' && v !== 'refuse') throw new ConfigError(`CDA_UNKNOWN_TYPE must be accept or refuse, got '${v}'`);
  return v;
}

/** TLS files come as a pair; a CA is needed to check client certificates (mutual TLS is the default with TLS). */
function tlsSettings(env: NodeJS.ProcessEnv): Pick<Config, 'tlsCertFile' | 'tlsKeyFile' | 'tlsCaFile' | 'tlsClientAuth'> {
  const cert = env.TLS_CERT_FILE || undefined;
  const key = env.TLS_KEY_FILE || undefined;
  const ca = env.TLS_CA_FILE || undefined;
  if (Boolean(cert) !== Boolean(key)) throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  const clientAuth = env.TLS_CLIENT_AUTH || (cert ? 'required' : 'none');
  if (clientAuth !== 'required' && clientAuth !== 'optional' && clientAuth !== 'none') {
    throw new ConfigError(`TLS_CLIENT_AUTH must be required, optional or none, got '${clientAuth}'`);
  }
  if (clientAuth !== 'none' && !cert) throw new ConfigError(`TLS_CLIENT_AUTH=${clientAuth} needs TLS_CERT_FILE and TLS_KEY_FILE`);
  if (clientAuth !== 'none' && !ca) throw new ConfigError(`TLS_CLIENT_AUTH=${clientAuth} needs TLS_CA_FILE (the CA of the client certificates)`);
  return {
    tlsCertFile: cert && path.resolve(cert),
    tlsKeyFile: key && path.resolve(key),
    tlsCaFile: ca && path.resolve(ca),
    tlsClientAuth: clientAuth,
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
