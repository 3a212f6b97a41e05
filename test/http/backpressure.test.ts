import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Backpressure, indexQueueDepth } from '../../src/http/backpressure.js';
import { REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildIti41Request, makeLabResult, newPatientId } from '../support/requests.js';
import { submissionResult } from '../support/responses.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('back-pressure on submissions', () => {
  it('admits submissions up to the in-flight limit, then answers XDSRepositoryBusy for ITI-41 and XDSRegistryBusy for ITI-42', () => {
    const bp = new Backpressure({ maxInflight: 2, maxQueueDepth: 0, depthCacheMs: 500 }, () => Promise.resolve(0));
    const a = bp.admit('ITI-41');
    const b = bp.admit('ITI-42');
    expect(a.admitted && b.admitted).to.equal(true);
    const c = bp.admit('ITI-41');
    const d = bp.admit('ITI-42');
    expect(c.admitted ? undefined : c.error.code).to.equal('XDSRepositoryBusy');
    expect(d.admitted ? undefined : d.error.code).to.equal('XDSRegistryBusy');
    if (a.admitted) {
      a.release();
      a.release();
    }
    expect(bp.inflightCount).to.equal(1);
    expect(bp.admit('ITI-41').admitted).to.equal(true);
  });

  it('never limits reads (ITI-43)', () => {
    const bp = new Backpressure({ maxInflight: 1, maxQueueDepth: 1, depthCacheMs: 500 }, () => Promise.resolve(99));
    expect(bp.admit('ITI-41').admitted).to.equal(true);
    for (let i = 0; i < 5; i++) expect(bp.admit('ITI-43').admitted).to.equal(true);
  });

  it('refuses once the queue depth read in the background reaches the limit, and keeps the last reading while Redis cannot be read', async () => {
    let depth = 0;
    let fail = false;
    const bp = new Backpressure({ maxInflight: 0, maxQueueDepth: 3, depthCacheMs: 10 }, () => (fail ? Promise.reject(new Error('down')) : Promise.resolve(depth)));
    expect(bp.admit('ITI-41').admitted).to.equal(true);
    depth = 3;
    await sleep(20);
    bp.admit('ITI-41');
    await sleep(5);
    const refused = bp.admit('ITI-41');
    expect(refused.admitted ? undefined : refused.error.message).to.match(/MAX_QUEUE_DEPTH=3/);
    depth = 0;
    fail = true;
    await sleep(20);
    bp.admit('ITI-41');
    await sleep(5);
    // The last good reading stays until a new one succeeds.
    expect(bp.admit('ITI-41').admitted).to.equal(false);
    fail = false;
    await sleep(20);
    bp.admit('ITI-41');
    await sleep(5);
    expect(bp.admit('ITI-41').admitted).to.equal(true);
  });

  describe('through HTTP, with no worker running so that submissions stay queued', function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let patientId: string;

    before(async () => {
      gw = await startTestGateway('postgres', { IN_PROCESS_WORKERS: 'false', MAX_INFLIGHT_SUBMISSIONS: '2', MAX_QUEUE_DEPTH: '100', SUBMISSION_TIMEOUT_MS: '3000' });
      patientId = newPatientId();
      expect(await gw.registerPatient(patientId)).to.equal(201);
    });
    after(async () => {
      await gw?.close();
    });

    const submit = () => gw.post('/xds/iti41', buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 2 }) }] }, 'mtom'));

    it('answers XDSRepositoryBusy at once above MAX_INFLIGHT_SUBMISSIONS, and Busy (not registered) for the ones that time out', async () => {
      const held = [submit(), submit()];
      await sleep(500);
      const t0 = Date.now();
      const refused = submissionResult(await submit());
      expect(Date.now() - t0).to.be.below(1500);
      expect(refused.status).to.equal('Failure');
      expect(refused.errors.map((e) => e.code)).to.deep.equal(['XDSRepositoryBusy']);
      expect(refused.errors[0]!.context).to.match(/MAX_INFLIGHT_SUBMISSIONS=2/);
      for (const r of await Promise.all(held)) expect(submissionResult(r).errors.map((e) => e.code)).to.deep.equal(['XDSRegistryBusy']);
      expect((await gw.backends.registry.counts()).documentEntries).to.equal(0);
    });

    it('answers XDSRepositoryBusy once the queue holds MAX_QUEUE_DEPTH submissions', async () => {
      // The two timed-out submissions above are still queued: no worker ever took them.
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
      const depth = indexQueueDepth(redis, gw.config.queuePrefix);
      try {
        expect(await depth.read()).to.equal(2);
        gw.gateway.context.backpressure = new Backpressure({ maxInflight: 0, maxQueueDepth: 2, depthCacheMs: 50 }, depth.read);
        gw.gateway.context.backpressure.admit('ITI-41');
        await sleep(200);
        const t0 = Date.now();
        const refused = submissionResult(await submit());
        expect(Date.now() - t0).to.be.below(1500);
        expect(refused.errors.map((e) => e.code)).to.deep.equal(['XDSRepositoryBusy']);
        expect(refused.errors[0]!.context).to.match(/MAX_QUEUE_DEPTH=2/);
      } finally {
        await depth.close();
        redis.disconnect();
      }
    });
  });
});
