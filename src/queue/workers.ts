import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { INDEX_QUEUE, STORE_QUEUE, encodeJobErrors, type IndexJobData, type IndexJobResult, type StoreJobData } from './jobs.js';
import type { ContentStore } from '../content/store.js';
import type { Registry } from '../registry/registry.js';
import { DeadlineExceededError } from '../registry/registry.js';
import { XdsError, XdsFailure } from '../errors.js';
import type { Logger } from '../log.js';

export interface WorkerDeps {
  connection: () => Redis;
  prefix: string;
  concurrency: number;
  stalledIntervalMs: number;
  content: ContentStore;
  registry: Registry;
  logger: Logger;
}

export interface Workers {
  close(): Promise<void>;
}

/**
 * Store and index workers. Both are idempotent (BullMQ may run a job twice after a stall):
 * verifying bytes twice is harmless and the registry commit is keyed by the submission id.
 */
export function startWorkers(deps: WorkerDeps): Workers {
  const common = {
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    stalledInterval: deps.stalledIntervalMs,
    lockDuration: Math.max(deps.stalledIntervalMs * 2, 1000),
    maxStalledCount: 3,
  };
  const store = new Worker<StoreJobData>(STORE_QUEUE, (job) => storeDocuments(job, deps), { ...common, connection: deps.connection() });
  const index = new Worker<IndexJobData, IndexJobResult>(INDEX_QUEUE, (job) => indexSubmission(job, deps), {
    ...common,
    connection: deps.connection(),
  });
  for (const w of [store, index]) {
    w.on('error', (err) => deps.logger.warn({ err: err.message, queue: w.name }, 'worker connection error'));
    w.on('failed', (job, err) => deps.logger.info({ queue: w.name, jobId: job?.id, attempt: job?.attemptsMade, reason: err.message.slice(0, 500) }, 'job failed'));
  }
  return {
    async close() {
      await Promise.allSettled([store.close(), index.close()]);
    },
  };
}

async function storeDocuments(job: Job<StoreJobData>, deps: WorkerDeps): Promise<void> {
  const bad: XdsError[] = [];
  for (const doc of job.data.documents) {
    const ok = await deps.content.verify(doc.contentKey, { sha1: doc.sha1, size: doc.size });
    if (!ok) bad.push(new XdsError('XDSRepositoryError', `stored bytes of document ${doc.uniqueId} do not match their hash`, doc.uniqueId));
  }
  if (bad.length) throw new UnrecoverableError(encodeJobErrors(bad));
}

async function indexSubmission(job: Job<IndexJobData>, deps: WorkerDeps): Promise<IndexJobResult> {
  const { submissionId, metadata, stored, deadline } = job.data;
  if (Date.now() >= deadline && !(await deps.registry.isSubmissionCommitted(submissionId))) {
    throw new UnrecoverableError(encodeJobErrors([tooLate()]));
  }
  try {
    const status = await deps.registry.commitSubmission({ submissionId, metadata, stored, deadline });
    deps.logger.debug({ submissionId, status }, 'submission indexed');
    return { status };
  } catch (err) {
    if (err instanceof XdsFailure) throw new UnrecoverableError(encodeJobErrors(err.errors));
    if (err instanceof DeadlineExceededError) {
      throw new UnrecoverableError(encodeJobErrors([tooLate()]));
    }
    // Anything else (database down, connection lost) is retried with backoff until the deadline.
    throw err;
  }
}

function tooLate(): XdsError {
  return new XdsError('XDSRegistryBusy', 'the registry could not commit the submission in time; nothing was registered');
}
