import { expect } from 'chai';
import { openDb } from '../../src/registry/db.js';
import { loadMigrations, migrate } from '../../src/registry/migrate.js';
import { describeEachDb, TEST_PG_URL } from '../support/db.js';
import { REGISTRY_TABLES } from './tables.js';

describe('registry migrations on disk', () => {
  it('are numbered SQL files read next to the module, in order', async () => {
    const migrations = await loadMigrations();
    expect(migrations.length).to.be.greaterThan(0);
    expect(migrations[0]).to.include({ version: 1, name: '001_core' });
    expect(migrations.map((m) => m.version)).to.deep.equal([...migrations.map((m) => m.version)].sort((a, b) => a - b));
  });
});

describeEachDb('registry migrations', (suite) => {
  it('create every registry table and record each applied migration once', async () => {
    const all = await loadMigrations();
    const first = await migrate(suite.db);
    expect(first.applied).to.deep.equal(all.map((m) => m.name));
    const tables = await suite.db.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1',
      [suite.schema],
    );
    expect(tables.map((t) => t.table_name)).to.include.members([...REGISTRY_TABLES, 'schema_migrations']);
    const ledger = await suite.db.query<{ version: number; name: string }>('select version, name from schema_migrations order by version');
    expect(ledger).to.deep.equal(all.map((m) => ({ version: m.version, name: m.name })));
  });

  it('do nothing when run again', async () => {
    expect((await migrate(suite.db)).applied).to.deep.equal([]);
    const [row] = await suite.db.query<{ n: number }>('select count(*)::int as n from schema_migrations');
    expect(row!.n).to.equal((await loadMigrations()).length);
  });

  it('apply only the migrations not yet recorded', async () => {
    const extra = { version: 9001, name: '9001_probe', sql: 'create table migration_probe (id int); insert into migration_probe values (1);' };
    const all = [...(await loadMigrations()), extra];
    expect((await migrate(suite.db, all)).applied).to.deep.equal(['9001_probe']);
    expect((await migrate(suite.db, all)).applied).to.deep.equal([]);
    expect(await suite.db.query('select id from migration_probe')).to.deep.equal([{ id: 1 }]);
  });

  it('leave no trace of a migration that fails, and record none of it', async () => {
    const broken = { version: 9002, name: '9002_broken', sql: 'create table half_done (id int); select * from no_such_table;' };
    let failed = false;
    try {
      await migrate(suite.db, [...(await loadMigrations()), broken]);
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
    expect(await suite.db.query(`select to_regclass('half_done')::text as t`)).to.deep.equal([{ t: null }]);
    expect(await suite.db.query('select 1 from schema_migrations where version = 9002')).to.deep.equal([]);
  });

  it('apply each migration exactly once when several migrations run at the same time', async () => {
    const fresh = `${suite.schema}_c`;
    const opened = await Promise.all(
      [0, 1, 2].map(() =>
        suite.mode === 'postgres'
          ? openDb({ databaseUrl: TEST_PG_URL, schema: fresh, poolSize: 2 })
          : Promise.resolve(suite.db),
      ),
    );
    try {
      if (suite.mode === 'pglite') await suite.db.exec(`create schema "${fresh}"; set search_path to "${fresh}"`);
      const results = await Promise.all(opened.map((db) => migrate(db)));
      const all = (await loadMigrations()).map((m) => m.name);
      expect(results.flatMap((r) => r.applied).sort()).to.deep.equal([...all].sort());
      const [row] = await opened[0]!.query<{ n: number }>('select count(*)::int as n from schema_migrations');
      expect(row!.n).to.equal(all.length);
    } finally {
      if (suite.mode === 'postgres') {
        await opened[0]!.exec(`drop schema "${fresh}" cascade`);
        await Promise.all(opened.map((db) => db.close()));
      } else {
        await suite.db.exec(`drop schema "${fresh}" cascade; set search_path to "${suite.schema}"`);
      }
    }
  });
});
