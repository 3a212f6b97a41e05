import { Queue } from 'bullmq';
import type { GatewayContext } from '../context.js';
import { decodeJobErrors, INDEX_QUEUE } from '../queue/jobs.js';
import type { RegistryCounts } from '../registry/registry.js';

export const QUEUE_NAMES = [INDEX_QUEUE] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
/** Failed jobs listed per queue (the most recent first). */
const FAILED_SHOWN = 50;

export interface RequestStats {
  transaction: string;
  byOutcome: Record<string, number>;
  total: number;
  /** Mean duration, seconds, from the latency histogram. */
  meanSeconds?: number;
}

export interface FailedJob {
  id: string;
  attemptsMade: number;
  failedAt?: Date;
  /** XDS codes carried by the failure, or its first line when it carries none. */
  reason: string;
}

export interface OperatorOverview {
  /** Undefined when the gateway runs without metrics: the page shows "—". */
  requests?: RequestStats[];
  errors?: { transaction: string; code: string; count: number }[];
  uptimeSeconds: number;
  queues: { name: QueueName; counts: Record<(typeof JOB_STATES)[number], number>; failed: FailedJob[] }[] | { unavailable: string };
  registry: RegistryCounts | { unavailable: string };
}

/**
 * What operators watch: request counts, outcomes and mean latency per transaction and errors by XDS code
 * (the prom-client registry of the gateway), the depth of the submission queue and their failed jobs
 * (BullMQ), the size of the registry (its database).
 */
export class OperatorView {
  private queues?: Map<QueueName, Queue>;

  constructor(private readonly ctx: GatewayContext) {}

  async overview(): Promise<OperatorOverview> {
    const [metrics, queues, registry] = await Promise.all([this.metrics(), this.queueStates(), this.registrySize()]);
    return { ...metrics, uptimeSeconds: process.uptime(), queues, registry };
  }

  /** Retries a failed job; false when there is no such failed job. */
  async retry(queue: QueueName, jobId: string): Promise<boolean> {
    const job = await this.queue(queue).getJob(jobId);
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed');
    this.ctx.logger.info({ queue, jobId }, 'failed job retried from the console');
    return true;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...(this.queues?.values() ?? [])].map((q) => q.close()));
  }

  private queue(name: QueueName): Queue {
    if (!this.queues) {
      this.queues = new Map(QUEUE_NAMES.map((n) => [n, new Queue(n, { connection: this.ctx.queue.producer, prefix: this.ctx.config.queuePrefix })]));
      for (const q of this.queues.values()) q.on('error', () => undefined);
    }
    return this.queues.get(name)!;
  }

  private async queueStates(): Promise<OperatorOverview['queues']> {
    try {
      return await Promise.all(
        QUEUE_NAMES.map(async (name) => {
          const q = this.queue(name);
          const counts = (await q.getJobCounts(...JOB_STATES)) as Record<(typeof JOB_STATES)[number], number>;
          const failed = (await q.getFailed(0, FAILED_SHOWN - 1)).flatMap((j) =>
            j?.id ? [{ id: j.id, attemptsMade: j.attemptsMade, failedAt: j.finishedOn ? new Date(j.finishedOn) : undefined, reason: failureReason(j.failedReason) }] : [],
          );
          return { name, counts, failed };
        }),
      );
    } catch (err) {
      return { unavailable: (err as Error).message };
    }
  }

  private async registrySize(): Promise<OperatorOverview['registry']> {
    try {
      return await this.ctx.registry.counts();
    } catch (err) {
      return { unavailable: (err as Error).message };
    }
  }

  private async metrics(): Promise<Pick<OperatorOverview, 'requests' | 'errors'>> {
    const registry = this.ctx.metrics?.registry;
    if (!registry) return {};
    const all = await registry.getMetricsAsJSON();
    const values = (name: string) => all.find((m) => m.name === name)?.values ?? [];
    const stats = new Map<string, RequestStats>();
    for (const v of values('xdsgw_requests_total')) {
      const transaction = String(v.labels.transaction ?? '');
      const s = stats.get(transaction) ?? { transaction, byOutcome: {}, total: 0 };
      const outcome = String(v.labels.outcome ?? '');
      s.byOutcome[outcome] = (s.byOutcome[outcome] ?? 0) + v.value;
      s.total += v.value;
      stats.set(transaction, s);
    }
    const sums = new Map<string, { sum: number; count: number }>();
    for (const v of values('xdsgw_request_duration_seconds') as { value: number; labels: Record<string, string | number>; metricName?: string }[]) {
      const transaction = String(v.labels.transaction ?? '');
      const acc = sums.get(transaction) ?? { sum: 0, count: 0 };
      if (v.metricName?.endsWith('_sum')) acc.sum += v.value;
      if (v.metricName?.endsWith('_count')) acc.count += v.value;
      sums.set(transaction, acc);
    }
    for (const [transaction, acc] of sums) {
      const s = stats.get(transaction);
      if (s && acc.count > 0) s.meanSeconds = acc.sum / acc.count;
    }
    const errors = values('xdsgw_errors_total')
      .map((v) => ({ transaction: String(v.labels.transaction ?? ''), code: String(v.labels.code ?? ''), count: v.value }))
      .filter((e) => e.count > 0)
      .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
    return { requests: [...stats.values()].sort((a, b) => a.transaction.localeCompare(b.transaction)), errors };
  }
}

function failureReason(failedReason: string | undefined): string {
  const errors = decodeJobErrors(failedReason);
  // The XDS codes only: their messages may name patients, which operators need not see.
  if (errors?.length) return [...new Set(errors.map((e) => e.code))].join(', ');
  return (failedReason ?? '').split('\n', 1)[0]!.slice(0, 200);
}
