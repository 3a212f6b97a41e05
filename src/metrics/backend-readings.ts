import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { INDEX_QUEUE } from '../queue/jobs.js';
import type { Db } from '../registry/db.js';

/** Job states reported by xdsgw_queue_jobs. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

export type QueueJobCounts = Record<string, Record<QueueState, number>>;

export interface QueueCountsReader {
  read(): Promise<QueueJobCounts>;
  close(): Promise<void>;
}

/** Job counts of the submission (index) queue, on a connection that fails fast when Redis is down (the producer's). */
export function queueJobCounts(connection: Redis, prefix: string): QueueCountsReader {
  const queues = [INDEX_QUEUE].map((name) => new Queue(name, { connection, prefix }));
  for (const q of queues) q.on('error', () => undefined);
  return {
    async read() {
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...QUEUE_STATES)));
      return Object.fromEntries(queues.map((q, i) => [q.name, Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[i]![s] ?? 0]))])) as QueueJobCounts;
    },
    async close() {
      await Promise.allSettled(queues.map((q) => q.close()));
    },
  };
}

/** Object types reported by xdsgw_registry_objects. */
export const REGISTRY_OBJECT_TYPES = ['documents', 'submission_sets', 'folders', 'associations', 'patients'] as const;
export type RegistryObjectType = (typeof REGISTRY_OBJECT_TYPES)[number];

/** Every version of a DocumentEntry counts; objects deleted by ITI-62 do not. */
const COUNT_SQL = `select
  (select count(*) from document_entries where deleted_at is null) as documents,
  (select count(*) from submission_sets where deleted_at is null) as submission_sets,
  (select count(*) from folders where deleted_at is null) as folders,
  (select count(*) from associations where deleted_at is null) as associations,
  (select count(*) from patients) as patients`;

/** The registry's size, in one statement. */
export async function registryObjectCounts(db: Db): Promise<Record<RegistryObjectType, number>> {
  const [row] = await db.query<Record<RegistryObjectType, string | number>>(COUNT_SQL);
  if (!row) throw new Error('the registry count returned no row');
  return Object.fromEntries(REGISTRY_OBJECT_TYPES.map((t) => [t, Number(row[t])])) as Record<RegistryObjectType, number>;
}
