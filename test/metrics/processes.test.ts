import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { request } from 'undici';
import { loadConfig } from '../../src/config.js';
import { openBackends, startGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log.js';
import { freePort, kill, spawnWorker, startOwnPostgres, startOwnRedis, type OwnService } from '../fault/harness.js';
import { PG_URL, REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildIti41Request, makeLabResult, newPatientId } from '../support/requests.js';
import { submissionResult } from '../support/responses.js';
import { eventually, metricsOf } from './scrape.js';

describe('GET /metrics while Redis and the database are down', function () {
  this.timeout(120_000);
  let redis: OwnService | undefined;
  let postgres: OwnService | undefined;

  before(function () {
    // The private PostgreSQL cluster is run as the postgres user, as the fault tests do.
    if (process.getuid?.() !== 0) {
      console.log('    (skipped: needs root to run a private PostgreSQL cluster)');
      this.skip();
    }
  });
  after(async () => {
    await redis?.dispose();
    await postgres?.dispose();
  });

  it('still answers, without the queue and registry gauges, which come back with their backends', async () => {
    [redis, postgres] = await Promise.all([startOwnRedis(), startOwnPostgres()]);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-metrics-outage-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: postgres.url, REDIS_URL: redis.url, AUTHENTICATION: 'off', LOG_LEVEL: 'silent' });
    const backends = await openBackends(config);
    const gateway = await startGateway(config, redis.url, backends, createLogger('silent'));
    try {
      const up = await metricsOf(gateway.url);
      expect(up.value('xdsgw_queue_jobs', { queue: 'index', state: 'waiting' })).to.equal(0);
      expect(up.value('xdsgw_registry_objects', { type: 'documents' })).to.equal(0);

      await Promise.all([redis.stop(), postgres.stop()]);
      // The registry count of the first scrape is still fresh: wait until it is read again, and found missing.
      await eventually('the registry gauge to go absent', async () => (await metricsOf(gateway.url)).all('xdsgw_registry_objects').length === 0, 30_000);
      const down = await metricsOf(gateway.url);
      expect(down.all('xdsgw_queue_jobs')).to.deep.equal([]);
      expect(down.value('xdsgw_requests_total', { transaction: 'ITI-41', outcome: 'Success' })).to.equal(0);
      expect(down.value('xdsgw_process_resident_memory_bytes')).to.be.greaterThan(0);

      await Promise.all([redis.start(), postgres.start()]);
      await eventually('the gauges to come back', async () => {
        const m = await metricsOf(gateway.url);
        return m.value('xdsgw_queue_jobs', { queue: 'index', state: 'failed' }) === 0 && m.value('xdsgw_registry_objects', { type: 'patients' }) === 0;
      }, 30_000);
    } finally {
      await gateway.close();
      await backends.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the /metrics endpoint of a standalone worker (METRICS_PORT)', function () {
  this.timeout(120_000);
  const token = 'worker-scrape-token-0123456789';
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway('postgres', { IN_PROCESS_WORKERS: 'false' });
  });
  after(async () => {
    await gw?.close();
  });

  it('reports the durations of the jobs the worker ran, the queues and the process, behind METRICS_TOKEN', async () => {
    const port = await freePort();
    const worker = spawnWorker({
      dataDir: gw.config.dataDir,
      contentDir: gw.config.contentDir,
      env: {
        DATA_DIR: gw.config.dataDir,
        CONTENT_DIR: gw.config.contentDir,
        DATABASE_URL: PG_URL,
        DATABASE_SCHEMA: gw.config.databaseSchema,
        REDIS_URL,
        QUEUE_PREFIX: gw.config.queuePrefix,
        WORKER_STALLED_INTERVAL_MS: '1000',
        HOST: '127.0.0.1',
        METRICS_PORT: String(port),
        METRICS_TOKEN: token,
        LOG_LEVEL: 'silent',
      },
    });
    const url = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${token}` };
    try {
      await eventually('the worker metrics endpoint', async () => (await request(`${url}/metrics`, { headers: auth }).then((r) => r.body.dump().then(() => r.statusCode)).catch(() => 0)) === 200, 30_000);

      const patientId = newPatientId();
      expect(await gw.registerPatient(patientId)).to.equal(201);
      const reply = await gw.post('/xds/iti41', buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 4 }) }] }, 'mtom'));
      expect(submissionResult(reply).status).to.equal('Success');

      // Queue counts read before the submission may be served for another second.
      await eventually('the worker to record its jobs', async () => {
        const m = await metricsOf(url, auth);
        return m.value('xdsgw_job_duration_seconds_count', { queue: 'index' }) === 1 && m.value('xdsgw_queue_jobs', { queue: 'index', state: 'completed' }) === 1;
      });
      const m = await metricsOf(url, auth);
      expect(m.value('xdsgw_queue_jobs', { queue: 'index', state: 'completed' })).to.equal(1);
      expect(m.value('xdsgw_process_cpu_seconds_total')).to.be.greaterThan(0);
      expect(m.all('xdsgw_requests_total')).to.deep.equal([]);

      const gatewaySide = await metricsOf(gw.url);
      expect(gatewaySide.value('xdsgw_requests_total', { transaction: 'ITI-41', outcome: 'Success' })).to.equal(1);
      expect(gatewaySide.all('xdsgw_job_duration_seconds_count')).to.deep.equal([]);

      const refused = await request(`${url}/metrics`);
      expect(refused.statusCode).to.equal(401);
      await refused.body.dump();
      const elsewhere = await request(`${url}/health`, { headers: auth });
      expect(elsewhere.statusCode).to.equal(404);
      await elsewhere.body.dump();
    } finally {
      await kill(worker, 'SIGTERM');
    }
    expect(worker.exitCode).to.equal(0);
  });
});
