import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { INDEX_QUEUE, encodeJobErrors, type IndexJobData, type IndexJobResult } from './jobs.js';
import type { ContentStore } from '../content/store.js';
import type { Registry } from '../registry/registry.js';
import { DeadlineExceededError, SubmissionAbandonedError } from '../registry/registry.js';
import { XdsError, XdsFailure } from '../errors.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { observeJobDurations } from '../metrics/job-durations.js';
import { withGatewaySignature, type GatewaySigner } from '../signature/submission.js';

export interface WorkerDeps {
  connection: () => Redis;
  prefix: string;
  concurrency: number;
  stalledIntervalMs: number;
  content: ContentStore;
  registry: Registry;
  logger: Logger;
  /** Where job durations are recorded (xdsgw_job_duration_seconds); absent: not recorded. */
  metrics?: GatewayMetrics;
  /** The gateway's signing key and names, for jobs that ask for its DSG signature; absent: such jobs fail. */
  signer?: () => Promise<GatewaySigner>;
}

export interface Workers {
  close(): Promise<void>;
}

/**
 * The submission worker: one job per submission proves that the bytes are in the content store, then
 * commits the registry transaction. Idempotent (BullMQ may run a job twice after a stall): the check is
 * read-only and the registry commit is keyed by the submission id.
 */
export function startWorkers(deps: WorkerDeps): Workers {
  const common = {
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    stalledInterval: deps.stalledIntervalMs,
    lockDuration: Math.max(deps.stalledIntervalMs * 2, 1000),
    maxStalledCount: 3,
  };
  const index = new Worker<IndexJobData, IndexJobResult>(INDEX_QUEUE, (job) => indexSubmission(job, deps), {
    ...common,
    connection: deps.connection(),
  });
  if (deps.metrics) observeJobDurations(index, deps.metrics);
  index.on('error', (err) => deps.logger.warn({ err: err.message, queue: index.name }, 'worker connection error'));
  index.on('failed', (job, err) => deps.logger.info({ queue: index.name, jobId: job?.id, attempt: job?.attemptsMade, reason: err.message.slice(0, 500) }, 'job failed'));
  return {
    async close() {
      await index.close();
    },
  };
}

/**
 * The repository step: every document's blob is in the content store with its size. The gateway wrote,
 * fsynced and hashed the bytes before enqueueing; this proves that they are still there (a worker on
 * another machine sees the shared volume) without reading them again.
 */
async function missingBytes(job: Job<IndexJobData>, deps: WorkerDeps): Promise<XdsError[]> {
  const missing: XdsError[] = [];
  for (const doc of job.data.stored) {
    if (!(await deps.content.hasBlob(doc.contentKey, doc.size))) {
      missing.push(new XdsError('XDSRepositoryError', `the stored bytes of document ${doc.uniqueId} are missing from the content store`, doc.uniqueId));
    }
  }
  return missing;
}

async function indexSubmission(job: Job<IndexJobData>, deps: WorkerDeps): Promise<IndexJobResult> {
  const { submissionId, metadata, stored, deadline } = job.data;
  if (Date.now() >= deadline && !(await deps.registry.isSubmissionCommitted(submissionId))) {
    throw new UnrecoverableError(encodeJobErrors([tooLate()]));
  }
  const missing = await missingBytes(job, deps);
  if (missing.length && !(await deps.registry.isSubmissionCommitted(submissionId))) throw new UnrecoverableError(encodeJobErrors(missing));
  // A re-run of a job whose commit happened needs no key: the commit answers already-committed.
  const signer = job.data.sign
    ? await gatewaySigner(deps).catch(async (err: unknown) => {
        if (await deps.registry.isSubmissionCommitted(submissionId)) return undefined;
        throw err;
      })
    : undefined;
  try {
    const complete = signer && ((m: IndexJobData['metadata'], s: IndexJobData['stored']) => withGatewaySignature(m, s, signer));
    const status = await deps.registry.commitSubmission({ submissionId, metadata, stored, deadline, ...(complete ? { complete } : {}) });
    deps.logger.debug({ submissionId, status }, 'submission indexed');
    return { status };
  } catch (err) {
    if (err instanceof XdsFailure) throw new UnrecoverableError(encodeJobErrors(err.errors));
    if (err instanceof DeadlineExceededError) {
      throw new UnrecoverableError(encodeJobErrors([tooLate()]));
    }
    if (err instanceof SubmissionAbandonedError) {
      deps.logger.warn({ submissionId }, 'job of an abandoned submission (its submitter was answered Failure): not committed');
      throw new UnrecoverableError(encodeJobErrors([new XdsError('XDSRepositoryError', 'the submission was abandoned before its commit; nothing was registered')]));
    }
    // Anything else (database down, connection lost) is retried with backoff until the deadline.
    throw err;
  }
}

/** The signing key, or the job's end: without it the submission cannot be registered as SIGNING requires. */
async function gatewaySigner(deps: WorkerDeps): Promise<GatewaySigner> {
  try {
    if (!deps.signer) throw new Error('this worker has no signing key');
    return await deps.signer();
  } catch (err) {
    deps.logger.error({ err: (err as Error).message }, 'the signing key could not be loaded');
    throw new UnrecoverableError(encodeJobErrors([new XdsError('XDSRepositoryError', 'the repository could not sign the submission; nothing was registered')]));
  }
}

function tooLate(): XdsError {
  return new XdsError('XDSRegistryBusy', 'the registry could not commit the submission in time; nothing was registered');
}
