import { ConfigError, loadConfig } from './config.js';
import { openBackends, runWorkers } from './gateway.js';
import { createLogger } from './log.js';
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
  logger.info({ redis: redisUrl.replace(/\/\/[^@]*@/, '//***@'), concurrency: config.workerConcurrency }, `XDS worker ${VERSION} started`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker shutting down: finishing active jobs');
    await workers.close();
    await backends.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`xds-worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
