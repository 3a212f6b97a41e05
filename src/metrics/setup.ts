import type { Redis } from 'ioredis';
import type { Db } from '../registry/db.js';
import { TRANSACTIONS } from '../transactions/index.js';
import { queueJobCounts, registryObjectCounts } from './backend-readings.js';
import { GatewayMetrics } from './gateway-metrics.js';

/** The metrics of a gateway process: its SOAP transactions, the queues (on a fail-fast Redis connection) and the registry size. */
export function gatewayMetrics(connection: Redis, queuePrefix: string, db: Db): GatewayMetrics {
  const metrics = new GatewayMetrics({ transactions: TRANSACTIONS.map((t) => t.name) });
  const queues = queueJobCounts(connection, queuePrefix);
  metrics.watchQueues(queues.read, queues.close);
  metrics.watchRegistry(() => registryObjectCounts(db));
  return metrics;
}

/** The metrics of a worker process: job durations and the queues; the gateways report the registry size. */
export function workerMetrics(connection: Redis, queuePrefix: string): GatewayMetrics {
  const metrics = new GatewayMetrics();
  const queues = queueJobCounts(connection, queuePrefix);
  metrics.watchQueues(queues.read, queues.close);
  return metrics;
}
