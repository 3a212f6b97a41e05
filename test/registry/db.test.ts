import { createHook } from 'node:async_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { openBackends } from '../../src/gateway.js';
import { openDb, RegistryUnavailableError, type Db } from '../../src/registry/db.js';
import { describeEachDb, openTestDb, TEST_PG_URL } from '../support/db.js';
import { freezingProxy } from '../support/freezing-proxy.js';
import { rejectionOf } from '../support/rejection.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeEachDb('registry database access', (suite) => {
  before(async () => {
    await suite.db.exec('create table probe (id int primary key, v text)');
  });
  beforeEach(async () => {
    await suite.db.exec('delete from probe');
  });

  it('creates its tables in the configured schema', async () => {
    const rows = await suite.db.query<{ s: string }>(`select table_schema as s from information_schema.tables where table_name = 'probe'`);
    expect(rows.map((r) => r.s)).to.deep.equal([suite.schema]);
  });

  it('passes parameters separately from the SQL text, including arrays and quotes', async () => {
    const tricky = [`it's`, 'a "b"', 'c,d', '{e}', null];
    const rows = await suite.db.query<{ v: string | null }>('select unnest($1::text[]) as v', [tricky]);
    expect(rows.map((r) => r.v)).to.deep.equal(tricky);
  });

  it('rolls back everything a transaction did when its function throws', async () => {
    const err = await rejectionOf(
      suite.db.transaction(async (tx) => {
        await tx.query('insert into probe values (1, $1)', ['x']);
        throw new Error('boom');
      }),
    );
    expect((err as Error).message).to.equal('boom');
    expect(await suite.db.query('select * from probe')).to.deep.equal([]);
  });

  it('never lets a plain query observe a transaction half done', async () => {
    const tx = suite.db.transaction(async (t) => {
      await t.query('insert into probe values (1, $1)', ['a']);
      await sleep(100);
      await t.query('insert into probe values (2, $1)', ['b']);
    });
    await sleep(20);
    const [seen] = await suite.db.query<{ n: number }>('select count(*)::int as n from probe');
    await tx;
    expect(seen!.n).to.be.oneOf([0, 2]);
  });

  it('keeps concurrent transactions apart: one rolling back does not undo the other', async () => {
    const failing = suite.db.transaction(async (t) => {
      await t.query('insert into probe values (1, $1)', ['a']);
      await sleep(50);
      throw new Error('rolled back');
    });
    const succeeding = suite.db.transaction(async (t) => {
      await t.query('insert into probe values (2, $1)', ['b']);
    });
    const results = await Promise.allSettled([failing, succeeding]);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'fulfilled']);
    expect(await suite.db.query('select id from probe order by id')).to.deep.equal([{ id: 2 }]);
  });

  it('answers ping', async () => {
    await suite.db.ping();
  });
});

describe('registry database failures (postgres)', () => {
  it('rejects with RegistryUnavailableError at once when nothing listens on the port', async () => {
    const started = Date.now();
    const err = await rejectionOf(openDb({ databaseUrl: 'postgres://postgres@127.0.0.1:1/test', schema: 'xds', connectTimeoutMs: 1000 }));
    expect(err).to.be.instanceOf(RegistryUnavailableError);
    expect(Date.now() - started).to.be.below(2000);
  });

  it('rejects with RegistryUnavailableError within the connect timeout when the host does not answer', async () => {
    const started = Date.now();
    const err = await rejectionOf(openDb({ databaseUrl: 'postgres://postgres@10.255.255.1:5432/test', schema: 'xds', connectTimeoutMs: 300 }));
    expect(err).to.be.instanceOf(RegistryUnavailableError);
    expect(Date.now() - started).to.be.below(2000);
  });

  it('gives up on a statement that runs past the statement timeout, and the pool keeps working', async () => {
    const t = await openTestDb('postgres', { statementTimeoutMs: 200 });
    try {
      const started = Date.now();
      const err = await rejectionOf(t.db.query('select pg_sleep(5)'));
      expect(err).to.be.instanceOf(RegistryUnavailableError);
      expect(Date.now() - started).to.be.below(1500);
      await t.db.ping();
    } finally {
      await t.cleanup();
    }
  });

  it('gives up on a server that stopped answering, naming the wait, and goes on once it answers again', async function () {
    this.timeout(20_000);
    const proxy = await freezingProxy(TEST_PG_URL);
    // The watch's limit is the statement timeout plus 2 s: 2.1 s here.
    const t = await openTestDb('postgres', { databaseUrl: proxy.url, statementTimeoutMs: 100, poolSize: 1 });
    try {
      const [{ pid: before }] = (await t.db.query<{ pid: number }>('select pg_backend_pid() as pid')) as [{ pid: number }];
      proxy.frozen = true;
      const started = Date.now();
      const err = await rejectionOf(t.db.query('select 1'));
      const waited = Date.now() - started;
      expect(err).to.be.instanceOf(RegistryUnavailableError);
      expect(err.message).to.contain('did not answer within 2100 ms');
      expect(waited).to.be.within(2_000, 5_000);
      proxy.frozen = false;
      // The stalled connection was not given back to the pool: the next statement runs on a new one.
      const [{ pid: after }] = (await t.db.query<{ pid: number }>('select pg_backend_pid() as pid')) as [{ pid: number }];
      expect(after).to.not.equal(before);
    } finally {
      proxy.frozen = false;
      await t.cleanup();
      await proxy.close();
    }
  });

  it('arms no timer per statement: the wait limit is watched by one timer for the pool', async () => {
    const t = await openTestDb('postgres', { statementTimeoutMs: 1_000 });
    // Timers armed while statements run, by their duration (node-postgres' query_timeout would arm one of 3,000 ms each).
    const armed: number[] = [];
    const hook = createHook({
      init(_id, type, _trigger, resource) {
        if (type === 'Timeout') armed.push((resource as { _idleTimeout: number })._idleTimeout);
      },
    });
    try {
      hook.enable();
      await Promise.all(Array.from({ length: 4 }, () => t.db.query('select pg_sleep(0.05)')));
      hook.disable();
      expect(armed).to.not.include(3_000);
    } finally {
      hook.disable();
      await t.cleanup();
    }
  });

  it('lets a transaction last longer than the wait limit when each of its statements answers in time', async function () {
    this.timeout(20_000);
    // Wait limit 3 s; the server ends a transaction left idle for 2 s (twice the statement timeout).
    const t = await openTestDb('postgres', { statementTimeoutMs: 1_000 });
    try {
      await t.db.exec('create table slow_tx (id int)');
      const started = Date.now();
      await t.db.transaction(async (tx) => {
        for (let id = 1; id <= 4; id++) {
          await tx.query('insert into slow_tx values ($1)', [id]);
          await sleep(1_000);
        }
      });
      expect(Date.now() - started).to.be.above(3_000);
      expect(await t.db.query('select id from slow_tx order by id')).to.deep.equal([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
    } finally {
      await t.cleanup();
    }
  });

  it('reports a connection lost inside a transaction as RegistryUnavailableError, and recovers', async () => {
    const t = await openTestDb('postgres');
    try {
      const err = await rejectionOf(t.db.transaction((tx) => tx.query('select pg_terminate_backend(pg_backend_pid())')));
      expect(err).to.be.instanceOf(RegistryUnavailableError);
      await t.db.ping();
    } finally {
      await t.cleanup();
    }
  });

  it('reuses an existing schema without trying to create it', async () => {
    const t = await openTestDb('postgres');
    let again: Db | undefined;
    try {
      again = await openDb({ databaseUrl: TEST_PG_URL, schema: t.schema });
      await again.ping();
    } finally {
      await again?.close();
      await t.cleanup();
    }
  });

  it('keeps at most DATABASE_POOL_SIZE connections, queries beyond it waiting their turn', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-pool-'));
    const schema = `t_pool_${process.pid}`;
    const backends = await openBackends(loadConfig({ DATABASE_URL: TEST_PG_URL, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: '2', DATA_DIR: dataDir }));
    try {
      const rows = await Promise.all(Array.from({ length: 6 }, () => backends.db.query<{ pid: number }>('select pg_backend_pid() as pid from pg_sleep(0.05)')));
      expect(new Set(rows.map(([r]) => r!.pid)).size).to.equal(2);
    } finally {
      await backends.db.exec(`drop schema if exists "${schema}" cascade`);
      await backends.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('registry database on disk (pglite)', () => {
  it('keeps committed data in its directory across a restart', async function () {
    this.timeout(60_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'xds-registry-test-'));
    try {
      const first = await openDb({ pgliteDir: path.join(dir, 'registry'), schema: 'xds' });
      await first.exec('create table kept (v text)');
      await first.query('insert into kept values ($1)', ['still here']);
      await first.close();
      const second = await openDb({ pgliteDir: path.join(dir, 'registry'), schema: 'xds' });
      try {
        expect(await second.query('select v from kept')).to.deep.equal([{ v: 'still here' }]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports queries on a closed database as RegistryUnavailableError', async function () {
    this.timeout(60_000);
    const t = await openTestDb('pglite');
    await t.cleanup();
    expect(await rejectionOf(t.db.query('select 1'))).to.be.instanceOf(RegistryUnavailableError);
  });
});
