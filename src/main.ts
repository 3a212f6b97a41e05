import './v8-tuning.js';
import cluster from 'node:cluster';
import { startGatewayCluster } from './cluster.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openBackends, startGateway } from './gateway.js';
import { createLogger, type Logger } from './log.js';
import { RedisUnavailableError, ensureRedis } from './queue/redis-server.js';
import { closeOnSignals, redactUrl } from './shutdown.js';
import { VERSION } from './version.js';

/** `npm start`: config → Redis (embedded if none) → registry and content store → HTTP server and workers. */
async function main(): Promise<void> {
  const config = loadConfig(process.env, VERSION);
  const logger = createLogger(config.logLevel);
  if (config.gatewayProcesses > 1 && cluster.isPrimary) return startPrimary(config, logger);
  const redis = await ensureRedis({ redisUrl: config.redisUrl, dataDir: config.dataDir, logger });
  const backends = await openBackends(config);
  const gateway = await startGateway(config, redis.url, backends, logger);
  logger.info(
    {
      url: gateway.url,
      registry: backends.db.mode === 'pglite' ? `embedded PGlite (${config.dataDir}/registry)` : 'PostgreSQL (DATABASE_URL)',
      redis: redis.started ? `embedded redis-server (${config.dataDir}/redis)` : redactUrl(redis.url),
      repositoryUniqueId: config.repositoryUniqueId,
      workers: config.inProcessWorkers || backends.db.mode === 'pglite' ? 'in-process' : 'separate (npm run worker)',
    },
    `XDS gateway ${VERSION} listening on ${gateway.url}`,
  );

  closeOnSignals(logger, 'gateway', [() => gateway.close(), () => backends.close(), () => redis.stop()]);
}

/** GATEWAY_PROCESSES > 1: Redis and the registry schema are made ready once, then the gateway processes are forked. */
async function startPrimary(config: Config, logger: Logger): Promise<void> {
  const redis = await ensureRedis({ redisUrl: config.redisUrl, dataDir: config.dataDir, logger });
  const backends = await openBackends(config);
  await backends.close();
  const gateways = startGatewayCluster(config, redis.url, logger);
  closeOnSignals(logger, 'gateway cluster', [() => gateways.stop(), () => redis.stop()]);
  try {
    await gateways.ready;
  } catch (err) {
    await gateways.stop();
    await redis.stop();
    throw err;
  }
  logger.info({ processes: config.gatewayProcesses, port: config.port }, `XDS gateway ${VERSION}: ${config.gatewayProcesses} processes share port ${config.port}`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof RedisUnavailableError) {
    console.error(`xds-gateway: ${err.message}`);
  } else {
    console.error(`xds-gateway: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(1);
});
