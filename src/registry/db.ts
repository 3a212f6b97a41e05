import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { SCHEMA_NAME } from '../config.js';
import { StatementWatch } from './statement-watch.js';

export interface QueryOptions {
  /** Keep the statement prepared on each pg connection (constant SQL on hot paths only; PGlite ignores it). */
  prepare?: boolean;
}

/** The registry's access to PostgreSQL: the same SQL runs on a `pg` pool and on embedded PGlite. */
export interface Db {
  query<T>(sql: string, params?: unknown[], opts?: QueryOptions): Promise<T[]>;
  /** Runs several `;`-separated statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in one transaction on one connection; a throw rolls everything back. Inside, use `tx` only
   * (on PGlite the outer handle waits for the transaction to end). Nested calls join the outer transaction.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly mode: 'postgres' | 'pglite';
}

export interface OpenDbOptions {
  /** postgres://... ; when unset the embedded PGlite in `pgliteDir` is used. */
  databaseUrl?: string;
  /** Data directory of the embedded database, or `memory://`. */
  pgliteDir?: string;
  schema: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** Told about failures of idle pooled connections (the next checkout fails and is reported as usual). */
  onIdleError?: (err: Error) => void;
}

/** The database cannot be reached or stopped answering: the caller answers XDSRegistryNotAvailable. */
export class RegistryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryUnavailableError';
  }
}

export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (!SCHEMA_NAME.test(opts.schema)) throw new Error(`schema must be a lower-case SQL identifier, got '${opts.schema}'`);
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts);
  if (!opts.pgliteDir) throw new Error('openDb needs databaseUrl or pgliteDir');
  return openPglite(opts.pgliteDir, opts.schema);
}

/** A bytea value as a Buffer: node-postgres gives one, PGlite a Uint8Array (wrapped, not copied). */
export const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** The SQLSTATE of a database error, if it is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
// 08: connection exception, 57P0x: server shutting down or starting, 53300: too many connections,
// 57014: statement timeout, 28: authentication, 3D000: no such database.
const UNAVAILABLE_STATES = /^(08...|57P0.|53300|57014|28...|3D000)$/;
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|connection error|Cannot use a pool after calling end|PGlite is closed/i;

function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code))) return true;
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return UNAVAILABLE_MESSAGES.test(err.message);
}

function mapError(err: unknown): unknown {
  if (err instanceof RegistryUnavailableError || !isUnavailable(err)) return err;
  const detail = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
  return new RegistryUnavailableError(`registry database unavailable: ${detail}`, { cause: err });
}

async function mapped<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw mapError(err);
  }
}

/** Names already made: a stored query's SQL is kilobytes, hashed on every call it showed in profiles of ITI-18. */
const statementNames = new Map<string, string>();
const MAX_STATEMENT_NAMES = 2_000;

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `q_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    if (statementNames.size < MAX_STATEMENT_NAMES) statementNames.set(sql, name);
  }
  return name;
}

type PgQueryable = pg.Pool | pg.PoolClient;

function pgQuery<T>(on: PgQueryable, sql: string, params: unknown[] | undefined, opts: QueryOptions | undefined): Promise<T[]> {
  const config: pg.QueryConfig = { text: sql, values: params };
  if (opts?.prepare) config.name = statementName(sql);
  return mapped(on.query(config).then((r) => r.rows as T[]));
}

async function openPostgres(url: string, opts: OpenDbOptions): Promise<Db> {
  const statementTimeout = opts.statementTimeoutMs ?? 15_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    statement_timeout: statementTimeout,
    idle_in_transaction_session_timeout: statementTimeout * 2,
    keepAlive: true,
    application_name: 'xds-gateway',
    options: `-c search_path=${opts.schema}`,
  });
  pool.on('error', (err) => opts.onIdleError?.(err));
  // The client side covers a server that stopped answering altogether (no TCP reset), past its own timeout.
  const watch = new StatementWatch(pool, statementTimeout + 2_000);
  const closePool = async (): Promise<void> => {
    watch.close();
    await pool.end();
  };

  const txDb = (client: pg.PoolClient): Db => {
    const db: Db = {
      mode: 'postgres',
      query: (sql, params, qo) => pgQuery(client, sql, params, qo),
      exec: async (sql) => {
        await mapped(client.query(sql));
      },
      transaction: (fn) => fn(db),
      ping: async () => {
        await pgQuery(client, 'select 1', undefined, undefined);
      },
      close: async () => {},
    };
    return db;
  };

  const db: Db = {
    mode: 'postgres',
    query: (sql, params, qo) => pgQuery(pool, sql, params, qo),
    exec: async (sql) => {
      await mapped(pool.query(sql));
    },
    async transaction(fn) {
      const client = await mapped(pool.connect());
      // A connection whose state is unknown (lost, timed out, failed rollback) is destroyed, not reused.
      let destroy = false;
      // A checked-out client emits 'error' when its connection drops (database restart): unheard, it would kill the process.
      const onLost = (): void => {
        destroy = true;
      };
      client.on('error', onLost);
      try {
        await mapped(client.query('begin'));
        const result = await fn(txDb(client));
        await mapped(client.query('commit'));
        return result;
      } catch (err) {
        if (err instanceof RegistryUnavailableError) destroy = true;
        else await client.query('rollback').catch(() => (destroy = true));
        throw err;
      } finally {
        client.off('error', onLost);
        client.release(destroy);
      }
    },
    ping: async () => {
      await pgQuery(pool, 'select 1', undefined, undefined);
    },
    close: closePool,
  };

  await ensureSchema(db, opts.schema).catch(async (err: unknown) => {
    await closePool().catch(() => {});
    throw err;
  });
  return db;
}

/** Creates the schema only when missing: CREATE SCHEMA IF NOT EXISTS needs the CREATE right even when it exists. */
async function ensureSchema(db: Db, schema: string): Promise<void> {
  const found = await db.query('select 1 from pg_namespace where nspname = $1', [schema]);
  if (found.length) return;
  try {
    await db.exec(`create schema if not exists "${schema}"`);
  } catch (err) {
    // Two processes creating it at once: the loser sees a unique violation on pg_namespace.
    if (sqlState(err) !== '23505' && sqlState(err) !== '42P06') throw err;
  }
}

/** Serialises work on the single PGlite connection. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

async function openPglite(dir: string, schema: string): Promise<Db> {
  if (!dir.startsWith('memory://')) await mkdir(dir, { recursive: true });
  const lite = await mapped(PGlite.create(dir));
  const lock = new Mutex();

  const liteQuery = <T>(sql: string, params?: unknown[]): Promise<T[]> => mapped(lite.query<T>(sql, params).then((r) => r.rows));
  const liteExec = async (sql: string): Promise<void> => {
    await mapped(lite.exec(sql));
  };

  const txDb: Db = {
    mode: 'pglite',
    query: (sql, params) => liteQuery(sql, params),
    exec: liteExec,
    transaction: (fn) => fn(txDb),
    ping: async () => {
      await liteQuery('select 1');
    },
    close: async () => {},
  };

  const db: Db = {
    mode: 'pglite',
    query: (sql, params) => lock.run(() => liteQuery(sql, params)),
    exec: (sql) => lock.run(() => liteExec(sql)),
    transaction: (fn) =>
      lock.run(async () => {
        await liteExec('begin');
        try {
          const result = await fn(txDb);
          await liteExec('commit');
          return result;
        } catch (err) {
          if (!lite.closed) await liteExec('rollback');
          throw err;
        }
      }),
    ping: () => lock.run(() => liteQuery('select 1').then(() => undefined)),
    close: () => lock.run(() => (lite.closed ? Promise.resolve() : lite.close())),
  };

  try {
    await db.exec(`create schema if not exists "${schema}"; set search_path to "${schema}"`);
  } catch (err) {
    await lite.close().catch(() => {});
    throw err;
  }
  return db;
}
