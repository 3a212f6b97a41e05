import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import pg from 'pg';
import { buildIti41Request, buildIti43Request, makeLabResult, newPatientId } from '../support/requests.js';
import { PG_URL, REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.js';
import { retrieveResult, submissionResult } from '../support/responses.js';

/** A worker as `npm run worker` runs it, in its own process, sharing the test gateway's schema and queue prefix. */
function startWorkerProcess(gw: TestGateway): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker-main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: PG_URL,
      DATABASE_SCHEMA: gw.config.databaseSchema,
      REDIS_URL,
      QUEUE_PREFIX: gw.config.queuePrefix,
      DATA_DIR: gw.config.dataDir,
      CONTENT_DIR: gw.config.contentDir,
      WORKER_STALLED_INTERVAL_MS: '1000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the submission worker: crashes and missing bytes', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let locker: pg.Client;
  const workers: ChildProcess[] = [];

  before(async () => {
    gw = await startTestGateway('postgres', { IN_PROCESS_WORKERS: 'false', SUBMISSION_TIMEOUT_MS: '30000' });
    locker = new pg.Client({ connectionString: PG_URL });
    await locker.connect();
  });
  after(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await locker?.end();
    await gw?.close();
  });

  it('leaves exactly one registry entry per document, and the request succeeds once another worker takes the job over', async () => {
    const schema = gw.config.databaseSchema;
    const patientId = newPatientId();
    expect(await gw.registerPatient(patientId)).to.equal(201);
    const docs = [1, 2].map(() => ({ bytes: makeLabResult(patientId, { sizeKb: 4 }) }));
    const req = buildIti41Request({ patientId, documents: docs }, 'mtom');

    // Hold the worker inside its registry transaction: inserts into document_entries wait on this lock.
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${schema}".document_entries IN SHARE MODE`);
    const first = startWorkerProcess(gw);
    workers.push(first);

    const pending = gw.post('/xds/iti41', req);
    await until('the worker to block inside its transaction', async () => {
      const rows = await gw.backends.db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_locks WHERE NOT granted AND relation = '"${schema}".document_entries'::regclass`,
      );
      return Number(rows[0]!.n) > 0;
    });

    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await locker.query('COMMIT');

    workers.push(startWorkerProcess(gw));
    const reply = await pending;
    const result = submissionResult(reply);
    // The deadline (30 s) is far beyond stalled-job recovery (about 2 s): the second worker commits.
    expect(result, reply.text).to.deep.equal({ status: 'Success', errors: [] });

    for (const uniqueId of req.uniqueIds.documents) {
      const rows = await gw.backends.db.query<{ n: string }>('SELECT count(*)::text AS n FROM document_entries WHERE unique_id = $1', [uniqueId]);
      expect(Number(rows[0]!.n)).to.equal(1);
    }
    const sets = await gw.backends.db.query<{ n: string }>('SELECT count(*)::text AS n FROM submission_sets WHERE unique_id = $1', [req.uniqueIds.submissionSet]);
    expect(Number(sets[0]!.n)).to.equal(1);

    const got = retrieveResult(
      await gw.post('/xds/iti43', buildIti43Request(req.uniqueIds.documents.map((documentUniqueId) => ({ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId })))),
    );
    expect(got.documents.map((d) => d.bytes.toString('base64'))).to.deep.equal(docs.map((d) => d.bytes.toString('base64')));
  });

  it('refuses the submission and registers nothing when its bytes left the content store before the worker ran', async () => {
    for (const w of workers) w.kill('SIGKILL');
    const patientId = newPatientId();
    expect(await gw.registerPatient(patientId)).to.equal(201);
    const bytes = makeLabResult(patientId, { sizeKb: 4 });
    const req = buildIti41Request({ patientId, documents: [{ bytes }] }, 'mtom');
    const blob = gw.backends.content.pathOf(createHash('sha256').update(bytes).digest('hex'));

    // No worker runs: the job waits in the queue while the bytes written by the gateway disappear.
    const pending = gw.post('/xds/iti41', req);
    await until('the gateway to write the document', async () => gw.backends.content.hasBlob(createHash('sha256').update(bytes).digest('hex'), bytes.length));
    await rm(blob);
    workers.push(startWorkerProcess(gw));

    const result = submissionResult(await pending);
    expect(result.status).to.equal('Failure');
    expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSRepositoryError']);
    expect(result.errors[0]!.context).to.match(/missing from the content store/);
    const rows = await gw.backends.db.query<{ n: string }>('SELECT count(*)::text AS n FROM document_entries WHERE patient_id = $1', [patientId]);
    expect(Number(rows[0]!.n)).to.equal(0);
  });
});
