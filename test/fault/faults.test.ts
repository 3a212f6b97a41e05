import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import pg from 'pg';
import { request } from 'undici';
import { newPatientId } from '../support/requests.js';
import {
  checkInvariants,
  cleanup,
  createDatabase,
  deployment,
  kill,
  report,
  registerPatient,
  sleep,
  spawnGateway,
  spawnWorker,
  startOwnPostgres,
  startOwnRedis,
  submit,
  submitContinuously,
  until,
  type Deployment,
  type GatewayProcess,
  type OwnService,
} from './harness.js';

const ready = async (url: string): Promise<boolean> => (await request(`${url}/ready`).then(async (r) => (await r.body.dump(), r.statusCode))) === 200;

describe('faults: crashes and outages lose no acknowledged document', function () {
  this.timeout(180_000);
  let redis: OwnService;
  let postgres: OwnService;
  let n = 0;

  before(async () => {
    [redis, postgres] = await Promise.all([startOwnRedis(), startOwnPostgres()]);
  });
  after(async () => {
    await Promise.all([redis?.dispose(), postgres?.dispose()]);
  });

  /** One deployment (database, queue prefix, data dir) per test, with a gateway and a worker process. */
  async function deploy(extra: Record<string, string> = {}, beforeStart?: (d: Deployment) => void) {
    const databaseUrl = await createDatabase(postgres.url, `fault_${process.pid}_${++n}`);
    const d = deployment(redis.url, databaseUrl, { QUEUE_PREFIX: `fault${process.pid}-${n}`, ...extra });
    beforeStart?.(d);
    const procs: ChildProcess[] = [];
    const gateway = await spawnGateway(d);
    procs.push(gateway.child);
    const worker = spawnWorker(d);
    procs.push(worker);
    const patientId = newPatientId();
    await registerPatient(gateway.url, patientId);
    return {
      d,
      databaseUrl,
      gateway,
      worker,
      patientId,
      procs,
      async dispose() {
        for (const p of procs) await kill(p);
        cleanup(d.dataDir);
      },
    };
  }

  it('worker SIGKILLed while submission jobs are running: the jobs are taken over, every Success is retrievable', async () => {
    // Long enough for stalled-job recovery and a new worker process to start on a loaded machine.
    const dep = await deploy({ SUBMISSION_TIMEOUT_MS: '30000' });
    try {
      const watch = new Redis(redis.url);
      const activeJobs = `${dep.d.env.QUEUE_PREFIX}:index:active`;
      const pending = Array.from({ length: 8 }, () => submit(dep.gateway.url, dep.patientId, 50_000, 1024));
      let seen = false;
      const end = Date.now() + 15_000;
      while (!seen && Date.now() < end) seen = (await watch.llen(activeJobs)) > 0;
      watch.disconnect();
      expect(seen, 'a submission job was observed running').to.equal(true);
      await kill(dep.worker);
      dep.procs.push(spawnWorker(dep.d));
      const outcomes = await Promise.all(pending);
      report('worker killed during its jobs', outcomes);
      expect(outcomes.filter((o) => o.status === 'Success').length, JSON.stringify(outcomes.map((o) => o.codes))).to.be.greaterThan(0);
      await checkInvariants({ url: dep.gateway.url, databaseUrl: dep.databaseUrl, contentDir: dep.d.contentDir, outcomes });
    } finally {
      await dep.dispose();
    }
  });

  it('worker SIGKILLed inside its registry transaction: one entry per document, and the submission succeeds on another worker', async () => {
    const dep = await deploy({ SUBMISSION_TIMEOUT_MS: '20000' });
    const locker = new pg.Client({ connectionString: dep.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE xds.document_entries IN SHARE MODE');
      const pending = submit(dep.gateway.url, dep.patientId, 40_000);
      await until('the worker to block inside its transaction', async () => {
        const r = await locker.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_locks WHERE NOT granted AND relation = 'xds.document_entries'::regclass`);
        return Number(r.rows[0]!.n) > 0;
      });
      await kill(dep.worker);
      await locker.query('COMMIT');
      dep.procs.push(spawnWorker(dep.d));
      const outcome = await pending;
      report('worker killed during index', [outcome]);
      expect(outcome.status, outcome.codes.join()).to.equal('Success');
      await checkInvariants({ url: dep.gateway.url, databaseUrl: dep.databaseUrl, contentDir: dep.d.contentDir, outcomes: [outcome] });
    } finally {
      await locker.end();
      await dep.dispose();
    }
  });

  it('gateway SIGKILLed with submissions in flight: unanswered ones are registered whole or not at all, a new gateway serves every Success', async () => {
    const dep = await deploy();
    let gateway: GatewayProcess = dep.gateway;
    try {
      const load = submitContinuously(() => gateway.url, dep.patientId, 3);
      await until('a few submissions to succeed', async () => load.outcomes.filter((o) => o.status === 'Success').length >= 3);
      await kill(gateway.child);
      const outcomes = await load.stop();
      expect(outcomes.some((o) => o.status === 'NoAnswer'), 'some requests were cut by the kill').to.equal(true);
      gateway = await spawnGateway(dep.d);
      dep.procs.push(gateway.child);
      const after = await submit(gateway.url, dep.patientId);
      report('gateway killed mid-request', [...outcomes, after]);
      expect(after.status).to.equal('Success');
      await checkInvariants({ url: gateway.url, databaseUrl: dep.databaseUrl, contentDir: dep.d.contentDir, outcomes: [...outcomes, after], allowNoAnswer: true });
    } finally {
      await dep.dispose();
    }
  });

  async function outage(title: string, service: () => OwnService, expectedWhileDown: string[]) {
    const dep = await deploy();
    try {
      const load = submitContinuously(() => dep.gateway.url, dep.patientId, 2);
      await until('a few submissions to succeed', async () => load.outcomes.filter((o) => o.status === 'Success').length >= 2);
      await service().stop();
      const downFrom = load.outcomes.length;
      await sleep(1500);
      await until('submissions to be refused during the outage', async () => load.outcomes.slice(downFrom).filter((o) => o.status === 'Failure').length >= 2, 30_000);
      const duringOutage = load.outcomes.slice(downFrom);
      expect(await ready(dep.gateway.url), '/ready reports the outage').to.equal(false);
      await service().start();
      await until('the gateway to be ready again by itself', () => ready(dep.gateway.url), 30_000);
      const recoveredFrom = load.outcomes.length;
      await until('submissions to succeed again', async () => load.outcomes.slice(recoveredFrom).filter((o) => o.status === 'Success').length >= 2, 30_000);
      const outcomes = await load.stop();
      report(`${title}: during the outage`, duringOutage);
      report(`${title}: whole run`, outcomes);
      const refused = duringOutage.filter((o) => o.status === 'Failure');
      expect(refused.length, 'submissions during the outage were answered').to.be.greaterThan(0);
      for (const o of refused) expect(expectedWhileDown).to.include.members(o.codes);
      for (const o of duringOutage) expect(o.ms, 'answered in bounded time').to.be.below(15_000);
      await checkInvariants({ url: dep.gateway.url, databaseUrl: dep.databaseUrl, contentDir: dep.d.contentDir, outcomes });
    } finally {
      await dep.dispose();
    }
  }

  it('Redis killed during submissions and restarted: clean errors meanwhile, automatic recovery, nothing acknowledged lost', async () => {
    await outage('redis', () => redis, ['XDSRepositoryError', 'XDSRegistryBusy']);
  });

  it('PostgreSQL stopped during submissions and restarted: clean errors meanwhile, automatic recovery, nothing acknowledged lost', async () => {
    await outage('postgres', () => postgres, ['XDSRegistryNotAvailable', 'XDSRegistryBusy', 'XDSRepositoryError']);
  });

  describe('content store on a small tmpfs', () => {
    let mounted = false;
    let dep: Awaited<ReturnType<typeof deploy>> | undefined;
    let mountPoint = '';

    before(async function () {
      dep = await deploy({}, (d) => {
        mountPoint = d.contentDir;
        mkdirSync(mountPoint, { recursive: true });
        try {
          execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
          mounted = true;
        } catch (err) {
          console.log(`      (skipped: cannot mount a tmpfs: ${(err as Error).message.split('\n', 1)[0]})`);
        }
      });
      if (!mounted) this.skip();
    });
    after(async () => {
      // The data dir can only be removed once the tmpfs inside it is unmounted.
      await dep?.dispose().catch(() => undefined);
      if (mounted) execFileSync('umount', ['-l', mountPoint]);
      if (dep) cleanup(dep.d.dataDir);
    });

    it('answers XDSRepositoryOutOfResources when full, registers nothing, and accepts again once space is freed', async () => {
      const filler = path.join(mountPoint, 'filler');
      const outcomes = [await submit(dep!.gateway.url, dep!.patientId)];
      expect(outcomes[0]!.status).to.equal('Success');
      writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024 - 64 * 1024));
      const full = await submit(dep!.gateway.url, dep!.patientId, 20_000, 200);
      report('content store full', [full]);
      expect(full.codes).to.deep.equal(['XDSRepositoryOutOfResources']);
      rmSync(filler);
      const again = await submit(dep!.gateway.url, dep!.patientId);
      expect(again.status).to.equal('Success');
      await checkInvariants({ url: dep!.gateway.url, databaseUrl: dep!.databaseUrl, contentDir: dep!.d.contentDir, outcomes: [...outcomes, full, again] });
    });

    it('answers XDSRepositoryError when the store turns read-only, and recovers when it is writable again', async () => {
      execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
      let ro;
      try {
        ro = await submit(dep!.gateway.url, dep!.patientId);
        expect(await ready(dep!.gateway.url)).to.equal(false);
      } finally {
        execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
      }
      report('content store read-only', [ro]);
      expect(ro.codes).to.deep.equal(['XDSRepositoryError']);
      const again = await submit(dep!.gateway.url, dep!.patientId);
      expect(again.status).to.equal('Success');
      await checkInvariants({ url: dep!.gateway.url, databaseUrl: dep!.databaseUrl, contentDir: dep!.d.contentDir, outcomes: [ro, again] });
    });
  });
});
