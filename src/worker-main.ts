import './v8-tuning.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openBackends, runWorkers } from './gateway.js';
import { createLogger } from './log.js';
import { startMetricsServer } from './metrics/scrape.js';
import { workerMetrics } from './metrics/setup.js';
import { producerConnection } from './queue/connection.js';
import { closeOnSignals, redactUrl } from './shutdown.js';
import { VERSION } from './version.js';

/** `npm run worker`: the submission workers alone, scaled apart from the HTTP gateways. */
async function main(): Promise<void> {
  const config = loadConfig(process.env, VERSION);
  const logger = createLogger(config.logLevel);
  if (!config.databaseUrl) {
    throw new ConfigError('a separate worker needs DATABASE_URL (the embedded PGlite registry is only usable inside the gateway process)');
  }
  const redisUrl = config.redisUrl ?? 'redis://127.0.0.1:6379';
  const backends = await openBackends(config);
  const metrics = await serveMetrics(config, redisUrl);
  const workers = runWorkers(config, redisUrl, backends, logger, metrics?.metrics);
  logger.info({ redis: redactUrl(redisUrl), concurrency: config.workerConcurrency, metrics: metrics?.url }, `XDS worker ${VERSION} started`);

  closeOnSignals(logger, 'worker', [() => workers.close(), async () => metrics?.close(), () => backends.close()]);
}

/** The worker's own /metrics on METRICS_PORT (job durations, queues, process), when set. */
async function serveMetrics(config: Config, redisUrl: string) {
  if (config.metricsPort === undefined) return undefined;
  const connection = producerConnection(redisUrl);
  connection.on('error', () => undefined);
  const metrics = workerMetrics(connection, config.queuePrefix);
  const server = await startMetricsServer(metrics, { port: config.metricsPort, host: config.host, token: config.metricsToken });
  return {
    metrics,
    url: `${server.url}/metrics`,
    async close() {
      await server.close();
      await metrics.close();
      connection.disconnect();
    },
  };
}

main().catch((err: unknown) => {
  console.error(`xds-worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
