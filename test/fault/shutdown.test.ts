import { expect } from 'chai';
import pg from 'pg';
import { request } from 'undici';
import { newPatientId } from '../support/requests.js';
import { PG_URL, REDIS_URL, dropTestState } from '../support/gateway.js';
import { cleanup, deployment, kill, registerPatient, sleep, spawnGateway, spawnWorker, submit, until } from './harness.js';

/** Shutdown breaks no service, so these run on the machine's Redis and PostgreSQL, in their own schema and key prefix. */
describe('graceful shutdown on SIGTERM', function () {
  this.timeout(90_000);

  async function setup() {
    const tag = `shut${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const d = deployment(REDIS_URL, PG_URL, { QUEUE_PREFIX: tag, DATABASE_SCHEMA: tag, SUBMISSION_TIMEOUT_MS: '20000' });
    const gateway = await spawnGateway(d);
    const worker = spawnWorker(d);
    const patientId = newPatientId();
    await registerPatient(gateway.url, patientId);
    const locker = new pg.Client({ connectionString: PG_URL });
    await locker.connect();
    /** Holds the worker inside its registry transaction, so that a submission stays in flight. */
    const hold = async () => {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${tag}".document_entries IN SHARE MODE`);
    };
    const blocked = () =>
      until('the worker to block inside its transaction', async () => {
        const r = await locker.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_locks WHERE NOT granted AND relation = '"${tag}".document_entries'::regclass`);
        return Number(r.rows[0]!.n) > 0;
      });
    return {
      d,
      tag,
      gateway,
      worker,
      patientId,
      hold,
      blocked,
      release: () => locker.query('COMMIT'),
      async dispose() {
        await locker.end();
        await kill(gateway.child);
        await kill(worker);
        await dropTestState({ schema: tag, prefix: tag });
        cleanup(d.dataDir);
      },
    };
  }

  it('the gateway finishes its in-flight submission with Success, refuses new connections, then exits 0', async () => {
    const s = await setup();
    try {
      await s.hold();
      const pending = submit(s.gateway.url, s.patientId, 40_000);
      await s.blocked();
      s.gateway.child.kill('SIGTERM');
      await sleep(500);
      const refused = await request(`${s.gateway.url}/health`).then(
        () => false,
        () => true,
      );
      expect(refused, 'no new connection once shutting down').to.equal(true);
      expect(s.gateway.child.exitCode, 'still running while a request is in flight').to.equal(null);
      await s.release();
      const outcome = await pending;
      expect(outcome.status, outcome.codes.join()).to.equal('Success');
      expect(await s.gateway.exited).to.equal(0);
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        const rows = await client.query(`SELECT unique_id FROM "${s.tag}".document_entries WHERE unique_id = any($1::text[])`, [outcome.req.uniqueIds.documents]);
        expect(rows.rowCount, 'the acknowledged submission is registered').to.equal(outcome.docs.length);
      } finally {
        await client.end();
      }
    } finally {
      await s.dispose();
    }
  });

  it('a worker finishes the job it is running before it exits 0', async () => {
    const s = await setup();
    try {
      await s.hold();
      const pending = submit(s.gateway.url, s.patientId, 40_000);
      await s.blocked();
      const exited = new Promise<number | null>((r) => s.worker.once('exit', (code) => r(code)));
      s.worker.kill('SIGTERM');
      await sleep(500);
      expect(s.worker.exitCode, 'still running while its job runs').to.equal(null);
      await s.release();
      const outcome = await pending;
      expect(outcome.status, outcome.codes.join()).to.equal('Success');
      expect(await exited).to.equal(0);
    } finally {
      await s.dispose();
    }
  });
});
