import type { EventEmitter } from 'node:events';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { INDEX_QUEUE, decodeJobErrors, type IndexJobData, type IndexJobResult } from './jobs.js';
import { XdsError } from '../errors.js';

/**
 * What became of a submission handed to the workers. 'committed' and 'rejected' (the worker's XDS errors)
 * are final; after 'timeout' or 'lost' (the queue failed: the job may be in Redis all the same) the job may
 * still run, and only the registry can settle it (Registry.abandonSubmission).
 */
export type SubmissionOutcome =
  | { status: 'committed' }
  | { status: 'rejected'; errors: XdsError[] }
  | { status: 'timeout' }
  | { status: 'lost'; error: Error };

export class QueueUnavailableError extends Error {}

/** No completed or failed event for the job within the time given. */
class JobWaitTimeout extends Error {}

/** The gateway's side of the queue: hands a submission to the workers and waits for the registry. */
export class SubmissionQueue {
  private readonly queue: Queue<IndexJobData, IndexJobResult>;
  private readonly events: QueueEvents;

  constructor(
    /** The gateway's Redis connection (fails fast when Redis is down); the console reads the queue through it. */
    readonly producer: Redis,
    eventsConnection: Redis,
    private readonly prefix: string,
    private readonly attempts: number,
  ) {
    this.queue = new Queue(INDEX_QUEUE, { connection: producer, prefix });
    this.events = new QueueEvents(INDEX_QUEUE, { connection: eventsConnection, prefix });
    // Errors surface through the calls; an unhandled 'error' event would crash the process.
    this.queue.on('error', () => undefined);
    // Every add in flight listens for the producer closing: concurrent submissions are many, not a leak.
    this.queue.setMaxListeners(0);
    this.events.on('error', () => undefined);
  }

  async ready(): Promise<void> {
    await this.events.waitUntilReady();
  }

  /**
   * Enqueues the submission as one job (store check, then registry commit) and waits for it.
   * The caller's deadline is in the job: a worker that picks it up too late refuses to commit. Never throws.
   */
  async submit(index: IndexJobData, waitMs: number): Promise<SubmissionOutcome> {
    let job: Job;
    try {
      job = await this.queue.add('index', index, {
        jobId: index.submissionId,
        attempts: this.attempts,
        backoff: { type: 'exponential', delay: 200 },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 24 * 3600 },
      });
    } catch (err) {
      // Redis may have written the job before the connection failed: lost, not refused.
      return { status: 'lost', error: new QueueUnavailableError(`queue unavailable: ${(err as Error).message}`) };
    }
    try {
      const result = await this.finished(job.id!, waitMs);
      return { status: result.status === 'committed' || result.status === 'already-committed' ? 'committed' : 'timeout' };
    } catch (err) {
      if (err instanceof JobWaitTimeout) return { status: 'timeout' };
      const message = (err as Error).message ?? '';
      const errors = decodeJobErrors(message);
      if (errors) return { status: 'rejected', errors: errors.map((e) => XdsError.fromJSON(e)) };
      return { status: 'lost', error: new QueueUnavailableError(`submission failed: ${firstLine(message)}`) };
    }
  }

  /**
   * The job's result once it completes; rejects with its failure, with JobWaitTimeout after `waitMs`, or with
   * the Redis error if its state cannot be read. It listens for the job's events, then looks once at its state
   * (it may have finished before the listeners were in place). BullMQ's Job.waitUntilFinished does the same but
   * reads the state inside an async Promise executor: a Redis failure at that moment was an unhandled rejection,
   * which ended the gateway process (seen with Redis killed during submissions).
   */
  private finished(jobId: string, waitMs: number): Promise<IndexJobResult> {
    // Per-job events are not in BullMQ's typed listeners: they go through the emitter itself.
    const events = this.events as unknown as EventEmitter;
    return new Promise((resolve, reject) => {
      const completedEvent = `completed:${jobId}`;
      const failedEvent = `failed:${jobId}`;
      const onCompleted = ({ returnvalue }: { returnvalue: unknown }): void => settle(() => resolve(returnvalue as IndexJobResult));
      const onFailed = ({ failedReason }: { failedReason: string }): void => settle(() => reject(new Error(failedReason)));
      const timer = setTimeout(() => settle(() => reject(new JobWaitTimeout(`no answer from the workers within ${waitMs} ms`))), waitMs);
      let settled = false;
      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        events.off(completedEvent, onCompleted);
        events.off(failedEvent, onFailed);
        finish();
      };
      events.on(completedEvent, onCompleted);
      events.on(failedEvent, onFailed);
      // Read once QueueEvents listens to Redis, so that no event falls between this read and the listeners.
      this.events
        .waitUntilReady()
        .then(async () => {
          const state = await this.queue.getJobState(jobId);
          if (state !== 'completed' && state !== 'failed') return;
          const job = await Job.fromId<IndexJobData, IndexJobResult>(this.queue, jobId);
          if (!job) return;
          if (state === 'completed') onCompleted({ returnvalue: job.returnvalue });
          else onFailed({ failedReason: job.failedReason });
        })
        .catch((err: Error) => settle(() => reject(err)));
    });
  }

  async ping(): Promise<void> {
    await this.producer.ping();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.events.close()]);
  }
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0]!.slice(0, 300);
}
