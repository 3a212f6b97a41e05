import type { Job, Worker } from 'bullmq';
import type { GatewayMetrics } from './gateway-metrics.js';

/** Records xdsgw_job_duration_seconds for every attempt the worker ends, completed or failed (from BullMQ's processedOn, in ms). */
export function observeJobDurations(worker: Worker, metrics: GatewayMetrics): void {
  const record = (job: Job | undefined): void => {
    if (job?.processedOn) metrics.jobFinished(worker.name, Math.max(0, Date.now() - job.processedOn) / 1000);
  };
  worker.on('completed', record);
  worker.on('failed', record);
}
