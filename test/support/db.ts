import { randomBytes } from 'node:crypto';
import { openDb, type Db, type OpenDbOptions } from '../../src/registry/db.js';

export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type DbMode = 'postgres' | 'pglite';

export interface TestDb {
  db: Db;
  schema: string;
  mode: DbMode;
  cleanup(): Promise<void>;
}

/**
 * A fresh, empty registry database: on PostgreSQL a random schema `t_<hex>` dropped by cleanup(),
 * on PGlite an in-memory instance.
 */
export async function openTestDb(mode: DbMode, opts: Partial<OpenDbOptions> = {}): Promise<TestDb> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  if (mode === 'pglite') {
    const db = await openDb({ pgliteDir: 'memory://', schema, ...opts });
    return { db, schema, mode, cleanup: () => db.close() };
  }
  const db = await openDb({ databaseUrl: TEST_PG_URL, schema, poolSize: 4, ...opts });
  return {
    db,
    schema,
    mode,
    async cleanup() {
      try {
        await db.exec(`drop schema if exists "${schema}" cascade`);
      } finally {
        await db.close();
      }
    },
  };
}

/** What a suite run by describeEachDb sees: the open database (from its first `before` hook on). */
export interface DbSuite {
  readonly mode: DbMode;
  readonly db: Db;
  readonly schema: string;
}

/** Declares the suite twice, on PostgreSQL and on PGlite, each with its own database opened once for the suite. */
export function describeEachDb(title: string, fn: (suite: DbSuite) => void): void {
  for (const mode of ['postgres', 'pglite'] as const) {
    describe(`${title} (${mode})`, function () {
      let opened: TestDb | undefined;
      const suite: DbSuite = {
        mode,
        get db() {
          if (!opened) throw new Error('the test database is not open yet');
          return opened.db;
        },
        get schema() {
          if (!opened) throw new Error('the test database is not open yet');
          return opened.schema;
        },
      };
      before(async function () {
        this.timeout(60_000);
        opened = await openTestDb(mode);
      });
      after(async () => {
        await opened?.cleanup();
      });
      fn(suite);
    });
  }
}
