import { ConfigError, loadConfig } from './config.js';
import { openBackends, runWorkers } from './gateway.js';
import { createLogger } from './log.js';
import { closeOnSignals, redactUrl } from './shutdown.js';
import { VERSION } from './version.js';

/** `npm run worker`: store and index workers alone, scaled apart from the HTTP gateways. */
async function main(): Promise<void> {
  const config = loadConfig(process.env, VERSION);
  const logger = createLogger(config.logLevel);
  if (!config.databaseUrl) {
    throw new ConfigError('a separate worker needs DATABASE_URL (the embedded PGlite registry is only usable inside the gateway process)');
  }
  const redisUrl = config.redisUrl ?? 'redis://127.0.0.1:6379';
  const backends = await openBackends(config);
  const workers = runWorkers(config, redisUrl, backends, logger);
  logger.info({ redis: redactUrl(redisUrl), concurrency: config.workerConcurrency }, `XDS worker ${VERSION} started`);

  closeOnSignals(logger, 'worker', [() => workers.close(), () => backends.close()]);
}

main().catch((err: unknown) => {
  console.error(`xds-worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
