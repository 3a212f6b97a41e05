import { randomBytes } from 'node:crypto';
import { Worker, type Queue } from 'bullmq';
import { expect } from 'chai';
import { XdsError } from '../../src/errors.js';
import { consumerConnection, producerConnection, waitReady } from '../../src/queue/connection.js';
import { encodeJobErrors, INDEX_QUEUE, type IndexJobData } from '../../src/queue/jobs.js';
import { SubmissionQueue } from '../../src/queue/submissions.js';
import { dropTestState, REDIS_URL } from '../support/gateway.js';

/** A job as the gateway hands it over; the queue never looks inside. */
const jobData = (submissionId: string): IndexJobData => ({
  submissionId,
  metadata: { documentEntries: [], folders: [], associations: [] } as unknown as IndexJobData['metadata'],
  stored: [],
  deadline: Date.now() + 60_000,
});

describe('SubmissionQueue: waiting for a submission job (Redis)', () => {
  const prefix = `xdsgw-t-${randomBytes(4).toString('hex')}`;
  const opened: { close(): Promise<unknown> }[] = [];
  after(async () => {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
    await dropTestState({ prefix });
  });

  async function submissionQueue(): Promise<{ queue: SubmissionQueue; producer: ReturnType<typeof producerConnection> }> {
    const producer = producerConnection(REDIS_URL);
    await waitReady(producer, 5000);
    const queue = new SubmissionQueue(producer, consumerConnection(REDIS_URL), prefix, 1);
    await queue.ready();
    opened.push({ close: () => queue.close() }, { close: async () => producer.disconnect() });
    return { queue, producer };
  }

  /** A BullMQ worker processing jobs by hand: takes the next job and finishes it as `finish` says. */
  async function finishNextJob(finish: { returnvalue: unknown } | { error: string }): Promise<void> {
    const worker = new Worker(INDEX_QUEUE, null, { connection: consumerConnection(REDIS_URL), prefix });
    try {
      const token = randomBytes(8).toString('hex');
      const job = await worker.getNextJob(token);
      if (!job) throw new Error('no job to finish');
      if ('error' in finish) await job.moveToFailed(new Error(finish.error), token, false);
      else await job.moveToCompleted(finish.returnvalue, token, false);
    } finally {
      await worker.close();
    }
  }

  it('answers committed when the worker completes the job', async () => {
    const { queue } = await submissionQueue();
    const id = `s-${randomBytes(6).toString('hex')}`;
    const outcome = queue.submit(jobData(id), 10_000);
    await finishNextJob({ returnvalue: { status: 'committed' } });
    expect(await outcome).to.deep.equal({ status: 'committed' });
  });

  it("answers the worker's XDS errors when it fails the job", async () => {
    const { queue } = await submissionQueue();
    const outcome = queue.submit(jobData(`s-${randomBytes(6).toString('hex')}`), 10_000);
    await finishNextJob({ error: encodeJobErrors([new XdsError('XDSPatientIdDoesNotMatch', 'the patient of the replaced document differs')]) });
    const answer = await outcome;
    expect(answer.status).to.equal('rejected');
    expect(answer.status === 'rejected' && answer.errors.map((e) => [e.code, e.message])).to.deep.equal([['XDSPatientIdDoesNotMatch', 'the patient of the replaced document differs']]);
  });

  it('finds a job that finished before the submission began waiting: no event is missed', async () => {
    const { queue } = await submissionQueue();
    const id = `s-${randomBytes(6).toString('hex')}`;
    const first = queue.submit(jobData(id), 10_000);
    await finishNextJob({ returnvalue: { status: 'committed' } });
    await first;
    // The same job id again: BullMQ adds nothing and hands back the finished job, whose event is long past.
    expect(await queue.submit(jobData(id), 2000)).to.deep.equal({ status: 'committed' });
  });

  it('answers timeout when no worker takes the job in time', async () => {
    const { queue } = await submissionQueue();
    expect(await queue.submit(jobData(`s-${randomBytes(6).toString('hex')}`), 300)).to.deep.equal({ status: 'timeout' });
  });

  it('answers lost, and the process goes on, when Redis fails just as the job is added', async () => {
    const { queue, producer } = await submissionQueue();
    // The moment BullMQ's own wait (Job.waitUntilFinished) read the job's state in an async Promise executor:
    // a failure there was an unhandled rejection, which mocha reports as this test failing (and ends a gateway).
    const internal = (queue as unknown as { queue: Queue }).queue;
    internal.once('waiting', () => producer.disconnect());
    const answer = await queue.submit(jobData(`s-${randomBytes(6).toString('hex')}`), 5000);
    expect(answer.status).to.equal('lost');
    expect(answer.status === 'lost' && answer.error.message).to.match(/^submission failed: /);
  });
});
