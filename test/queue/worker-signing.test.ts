import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createLogger } from '../../src/log.js';
import { consumerConnection } from '../../src/queue/connection.js';
import { startWorkers, type Workers } from '../../src/queue/workers.js';
import { REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.js';
import { makeSubmission } from '../registry/factory.js';
import { newPatientId } from '../support/requests.js';

/**
 * The worker's half of SIGNING: a job that asks for the gateway's signature fails whole without a usable
 * key, unless its commit already happened (a re-run after a crash), which it then reports.
 */
describe('the submission worker and the signing key', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let workers: Workers | undefined;
  let patientId: string;

  before(async () => {
    gw = await startTestGateway('postgres', { IN_PROCESS_WORKERS: 'false' });
    patientId = newPatientId();
    expect(await gw.registerPatient(patientId)).to.equal(201);
    workers = startWorkers({
      connection: () => consumerConnection(REDIS_URL),
      prefix: gw.config.queuePrefix,
      concurrency: 1,
      stalledIntervalMs: 1000,
      content: gw.backends.content,
      registry: gw.backends.registry,
      logger: createLogger('silent'),
      signer: () => Promise.reject(new Error('the key file is unreadable')),
    });
  });
  after(async () => {
    await workers?.close();
    await gw?.close();
  });

  const job = (submissionId: string) => {
    const s = makeSubmission({ patientId, documents: 1 });
    // Registry-only facts (no bytes to check in the content store), as ITI-42 sends them.
    return { submissionId, metadata: s.metadata, stored: [], deadline: Date.now() + 20_000, sign: true };
  };

  it('refuses a submission it cannot sign, and registers nothing', async () => {
    const before = await gw.backends.registry.counts();
    const outcome = await gw.gateway.context.queue.submit(job(randomUUID()), 20_000);
    expect(outcome.status).to.equal('rejected');
    expect(outcome.status === 'rejected' && outcome.errors.map((e) => [e.code, e.message])).to.deep.equal([
      ['XDSRepositoryError', 'the repository could not sign the submission; nothing was registered'],
    ]);
    expect(await gw.backends.registry.counts()).to.deep.equal(before);
  });

  it('reports as committed a job whose commit already happened, key or no key', async () => {
    const data = job(randomUUID());
    await gw.backends.registry.commitSubmission({ submissionId: data.submissionId, metadata: data.metadata, stored: data.stored });
    const outcome = await gw.gateway.context.queue.submit(data, 20_000);
    expect(outcome).to.deep.equal({ status: 'committed' });
  });
});
