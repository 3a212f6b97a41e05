import { Redis, type RedisOptions } from 'ioredis';

/**
 * Producers (the HTTP side) must fail fast when Redis is gone, so that a submission gets
 * XDSRepositoryError at once instead of hanging; workers and event listeners must instead
 * wait and reconnect forever (BullMQ requires maxRetriesPerRequest: null for them).
 */
export function producerConnection(url: string): Redis {
  return quiet(
    new Redis(url, {
      ...common,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
    }),
  );
}

export function consumerConnection(url: string): Redis {
  return quiet(new Redis(url, { ...common, maxRetriesPerRequest: null }));
}

/**
 * Connection errors reach the code through the failed calls and the BullMQ objects' own 'error' events;
 * an instance without a listener (one BullMQ only duplicates, say) would print "Unhandled error event"
 * for every reconnection attempt during a Redis outage.
 */
function quiet(redis: Redis): Redis {
  redis.on('error', () => undefined);
  return redis;
}

const common: RedisOptions = {
  connectTimeout: 2000,
  retryStrategy: (times) => Math.min(200 * times, 2000),
  // Stale sockets are noticed within seconds, not after the OS TCP timeout.
  keepAlive: 1000,
};

export async function waitReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
