import { readdir, readFile } from 'node:fs/promises';
import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Next to this module both under tsx (src/) and when built (dist/src/, where the build copies the .sql files). */
const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

const FILE_NAME = /^(\d+)_([a-z0-9_]+)\.sql$/;

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql'));
  const migrations: Migration[] = [];
  for (const file of files) {
    const m = FILE_NAME.exec(file);
    if (!m) throw new Error(`migration file name must be <number>_<name>.sql, got '${file}'`);
    migrations.push({ version: Number(m[1]), name: file.slice(0, -4), sql: await readFile(new URL(file, dir), 'utf8') });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) throw new Error(`two migrations have version ${migrations[i]!.version}`);
  }
  return migrations;
}

const CREATE_LEDGER = `create table schema_migrations (
  version int primary key,
  name text not null,
  applied_at timestamptz not null default now()
)`;

/**
 * Applies the migrations not yet recorded, in order, each in its own transaction. Every transaction first
 * takes an advisory lock keyed by the schema, so two processes starting at once apply each migration once
 * (on PGlite, single-connection and single-process, the lock is granted at once and transactions are serial anyway).
 */
export async function migrate(db: Db, migrations?: Migration[]): Promise<{ applied: string[] }> {
  const all = migrations ?? (await loadMigrations());
  const applied: string[] = [];
  for (const m of all) {
    const done = await db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('xds-gateway:migrate:' || current_schema()))`);
      const [ledger] = await tx.query<{ t: string | null }>(`select to_regclass('schema_migrations')::text as t`);
      if (!ledger?.t) await tx.exec(CREATE_LEDGER);
      const found = await tx.query('select 1 from schema_migrations where version = $1', [m.version]);
      if (found.length) return false;
      await tx.exec(m.sql);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.name);
  }
  return { applied };
}

/**
 * ANALYZE of the registry's own tables (those of the schema the Db works in), as autovacuum would: a bare
 * ANALYZE reads every schema of the database, however large and whoever owns it.
 */
export async function analyzeRegistry(db: Db): Promise<void> {
  const tables = await db.query<{ name: string }>('select tablename as name from pg_tables where schemaname = current_schema()');
  if (tables.length) await db.exec(`analyze ${tables.map((t) => `"${t.name.replaceAll('"', '""')}"`).join(', ')}`);
}
